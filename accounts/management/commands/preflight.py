from django.core.management.base import BaseCommand, CommandError

from config.preflight import check_database, check_redis


class Command(BaseCommand):
    help = "Check that the database and (when REDIS_URL is set) Redis answer; one line each."

    def handle(self, *args, **options) -> None:
        database = check_database()
        if database != "ok":
            raise CommandError(database, returncode=2)
        redis_state = check_redis()
        if redis_state not in {"ok", "eager"}:
            raise CommandError(redis_state, returncode=2)
        self.stdout.write(f"database: ok, broker: {redis_state}")
