resource "aws_sqs_queue" "ok" {
  name              = "q"
  kms_master_key_id = "arn:aws:kms:eu-west-1:111122223333:key/abc"
}
