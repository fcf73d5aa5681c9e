resource "aws_db_instance" "default_key" {
  storage_encrypted = true
}
resource "aws_rds_cluster" "plain" {
  storage_encrypted = false
}
