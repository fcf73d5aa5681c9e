resource "aws_efs_file_system" "ok" {
  encrypted  = true
  kms_key_id = "arn:aws:kms:eu-west-1:111122223333:key/abc"
}
