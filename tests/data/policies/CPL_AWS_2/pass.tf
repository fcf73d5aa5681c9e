resource "aws_db_instance" "ok" {
  storage_encrypted = true
  kms_key_id        = "arn:aws:kms:eu-west-1:111122223333:key/abc"
}
