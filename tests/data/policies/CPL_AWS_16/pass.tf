resource "aws_s3_bucket_versioning" "ok" {
  bucket = "logs"
  versioning_configuration {
    status = "Enabled"
  }
}
