from django.apps import AppConfig


class ToastTrayCatchupConfig(AppConfig):
    name = "toasttray_catchup"
    verbose_name = "ToastTray catch-up"
    # Fixed here so the migration does not depend on the site's DEFAULT_AUTO_FIELD.
    default_auto_field = "django.db.models.BigAutoField"
