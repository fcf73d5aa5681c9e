resource "aws_ebs_volume" "default_key" {
  availability_zone = "eu-west-1a"
  encrypted         = true
}
