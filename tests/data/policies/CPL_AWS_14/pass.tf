resource "aws_backup_plan" "ok" {
  name = "p"
  rule {
    rule_name         = "daily"
    target_vault_name = "v"
    schedule          = "cron(0 5 * * ? *)"
    lifecycle {
      delete_after = 35
    }
  }
}
