resource "aws_backup_vault" "locked" {
  name = "v"
}
resource "aws_backup_vault_lock_configuration" "lock" {
  backup_vault_name   = aws_backup_vault.locked.name
  min_retention_days  = 35
  changeable_for_days = 3
}
