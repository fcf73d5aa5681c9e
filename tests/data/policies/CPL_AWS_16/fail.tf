resource "aws_s3_bucket_versioning" "suspended" {
  bucket = "logs"
  versioning_configuration {
    status = "Suspended"
  }
}
