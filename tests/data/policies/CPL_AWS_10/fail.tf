resource "aws_opensearch_domain" "default_key" {
  domain_name = "d"
  encrypt_at_rest {
    enabled = true
  }
}
