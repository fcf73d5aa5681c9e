resource "aws_s3_bucket_policy" "ok" {
  bucket = "b"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}
