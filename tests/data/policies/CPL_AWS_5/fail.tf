resource "aws_sqs_queue" "aws_managed" {
  name              = "q"
  kms_master_key_id = "alias/aws/sqs"
}
resource "aws_sqs_queue" "none" {
  name = "r"
}
