resource "aws_sns_topic" "ok" {
  name              = "t"
  kms_master_key_id = "arn:aws:kms:eu-west-1:111122223333:key/abc"
}
