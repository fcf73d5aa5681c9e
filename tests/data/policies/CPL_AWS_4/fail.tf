resource "aws_dynamodb_table" "aws_owned" {
  name     = "t"
  hash_key = "id"
}
