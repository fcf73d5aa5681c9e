resource "aws_db_instance" "ok" {
  backup_retention_period = 14
}
