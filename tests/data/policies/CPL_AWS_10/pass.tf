resource "aws_opensearch_domain" "ok" {
  domain_name = "d"
  encrypt_at_rest {
    enabled    = true
    kms_key_id = "arn:aws:kms:eu-west-1:111122223333:key/abc"
  }
}
