resource "aws_s3_bucket_server_side_encryption_configuration" "ok" {
  bucket = "b"
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = "arn:aws:kms:eu-west-1:111122223333:key/abc"
    }
  }
}
