from django.core.management.base import BaseCommand, CommandError

from config.preflight import check_database, check_redis
from subsidy import scanning


class Command(BaseCommand):
    help = (
        "Check that the database and (when REDIS_URL is set) Redis answer; say whether uploads "
        "are scanned for malware (CLAMAV_ADDRESS) and whether ClamAV answers."
    )

    def handle(self, *args, **options) -> None:
        database = check_database()
        if database != "ok":
            raise CommandError(database, returncode=2)
        redis_state = check_redis()
        if redis_state not in {"ok", "eager"}:
            raise CommandError(redis_state, returncode=2)
        # The scanner never stops start-up: uploads wait in quarantine until it answers.
        scanner = scanning.ping()
        if scanner not in {"ok", "off"}:
            self.stderr.write(f"{scanner} Uploads stay pending until it answers.")
            scanner = "down"
        elif scanner == "off":
            self.stderr.write(
                "Malware scanning is off (CLAMAV_ADDRESS is not set): uploads are usable at "
                "once and shown to officers as not scanned."
            )
        self.stdout.write(f"database: ok, broker: {redis_state}, scanner: {scanner}")
