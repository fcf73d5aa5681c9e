resource "aws_backup_vault" "unlocked" {
  name = "v"
}
