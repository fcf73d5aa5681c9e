resource "aws_s3_bucket_server_side_encryption_configuration" "aes" {
  bucket = "b"
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}
resource "aws_s3_bucket_server_side_encryption_configuration" "aws_managed" {
  bucket = "c"
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}
