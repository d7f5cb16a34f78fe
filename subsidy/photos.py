"""Where and when a site photo was taken, read from its EXIF: DateTimeOriginal and GPS.

Plain values out (Decimal degrees, an aware datetime), never floats: a position is shown and
compared as the camera wrote it. A photo whose EXIF is missing, partial or unreadable is
reported as having none, never refused for it.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import BinaryIO
from zoneinfo import ZoneInfo

from PIL import Image, UnidentifiedImageError

EXIF_IFD = 0x8769
GPS_IFD = 0x8825
DATETIME_ORIGINAL = 0x9003
OFFSET_TIME_ORIGINAL = 0x9011
GPS_LATITUDE_REF, GPS_LATITUDE = 1, 2
GPS_LONGITUDE_REF, GPS_LONGITUDE = 3, 4

# Six places: about 0.1 m, the precision of the model's DecimalField(9, 6).
DEGREE_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class PhotoExif:
    taken_at: dt.datetime | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


def _rational(value: object) -> Decimal:
    """An EXIF rational (Pillow's IFDRational, or a (numerator, denominator) pair) exactly."""
    if isinstance(value, tuple) and len(value) == 2:
        numerator, denominator = value
    else:
        numerator, denominator = value.numerator, value.denominator
    if not denominator:
        raise ValueError("zero denominator")
    return Decimal(int(numerator)) / Decimal(int(denominator))


def degrees(dms: object, ref: object, limit: int) -> Decimal | None:
    """Degrees, minutes and seconds with their N/S or E/W reference as signed decimal degrees."""
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if not isinstance(ref, str) or ref.strip("\x00 ").upper() not in {"N", "S", "E", "W"}:
        return None
    ref = ref.strip("\x00 ").upper()
    try:
        d, m, s = (_rational(part) for part in dms)
        value = d + m / 60 + s / 3600
    except (TypeError, ValueError, AttributeError, InvalidOperation, ZeroDivisionError):
        return None
    if not (0 <= value <= limit) or not (0 <= m < 60) or not (0 <= s < 60):
        return None
    value = value.quantize(DEGREE_PLACES, rounding=ROUND_HALF_UP)
    return -value if ref in {"S", "W"} else value


def taken_at(text: object, offset: object, default_zone: ZoneInfo) -> dt.datetime | None:
    """EXIF "YYYY:MM:DD HH:MM:SS" as an aware datetime.

    Cameras write local time; without OffsetTimeOriginal ("+07:00") it is taken as the
    programme's zone (Asia/Jakarta).
    """
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if not isinstance(text, str):
        return None
    zone: dt.tzinfo = default_zone
    if isinstance(offset, bytes):
        offset = offset.decode("ascii", "replace")
    if isinstance(offset, str):
        try:
            zone = dt.datetime.strptime(offset.strip("\x00 "), "%z").tzinfo or default_zone
        except ValueError:
            pass
    try:
        return dt.datetime.strptime(text.strip("\x00 "), "%Y:%m:%d %H:%M:%S").replace(tzinfo=zone)
    except ValueError:
        return None


def read_exif(file: BinaryIO, default_zone: ZoneInfo) -> PhotoExif:
    """The EXIF time and GPS position of a JPEG or PNG photo; what it lacks stays None."""
    file.seek(0)
    try:
        # Opening reads the headers only: no pixels are decoded.
        with Image.open(file) as image:
            exif = image.getexif()
            details = exif.get_ifd(EXIF_IFD)
            gps = exif.get_ifd(GPS_IFD)
    # Pillow raises many kinds of errors on a damaged file; each means "no EXIF to read".
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, KeyError, TypeError):
        return PhotoExif()
    finally:
        file.seek(0)
    latitude = degrees(gps.get(GPS_LATITUDE), gps.get(GPS_LATITUDE_REF), 90)
    longitude = degrees(gps.get(GPS_LONGITUDE), gps.get(GPS_LONGITUDE_REF), 180)
    if latitude is None or longitude is None:
        latitude = longitude = None
    return PhotoExif(
        taken_at=taken_at(
            details.get(DATETIME_ORIGINAL), details.get(OFFSET_TIME_ORIGINAL), default_zone
        ),
        latitude=latitude,
        longitude=longitude,
    )
