resource "aws_sns_topic" "aws_managed" {
  name              = "t"
  kms_master_key_id = "alias/aws/sns"
}
