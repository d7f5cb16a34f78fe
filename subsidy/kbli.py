"""KBLI 2020 divisions of manufacturing (10-33), the programme's sector, in both languages.

The one list of division names: pages, reports and statistics read it here.
"""

from django.utils import translation

# Division -> (Indonesian, English), as BPS publishes them in KBLI 2020.
DIVISIONS: dict[str, tuple[str, str]] = {
    "10": ("Industri Makanan", "Manufacture of food products"),
    "11": ("Industri Minuman", "Manufacture of beverages"),
    "12": ("Industri Pengolahan Tembakau", "Manufacture of tobacco products"),
    "13": ("Industri Tekstil", "Manufacture of textiles"),
    "14": ("Industri Pakaian Jadi", "Manufacture of wearing apparel"),
    "15": (
        "Industri Kulit, Barang dari Kulit dan Alas Kaki",
        "Manufacture of leather, leather products and footwear",
    ),
    "16": (
        "Industri Kayu, Barang dari Kayu dan Gabus (Tidak Termasuk Furnitur) dan Barang Anyaman "
        "dari Bambu, Rotan dan Sejenisnya",
        "Manufacture of wood and of products of wood and cork, except furniture; articles of "
        "straw and plaiting materials",
    ),
    "17": ("Industri Kertas dan Barang dari Kertas", "Manufacture of paper and paper products"),
    "18": (
        "Industri Pencetakan dan Reproduksi Media Rekaman",
        "Printing and reproduction of recorded media",
    ),
    "19": (
        "Industri Produk dari Batu Bara dan Pengilangan Minyak Bumi",
        "Manufacture of coke and refined petroleum products",
    ),
    "20": (
        "Industri Bahan Kimia dan Barang dari Bahan Kimia",
        "Manufacture of chemicals and chemical products",
    ),
    "21": (
        "Industri Farmasi, Produk Obat Kimia dan Obat Tradisional",
        "Manufacture of pharmaceuticals, medicinal chemical and botanical products",
    ),
    "22": ("Industri Karet, Barang dari Karet dan Plastik", "Manufacture of rubber and plastics"),
    "23": (
        "Industri Barang Galian Bukan Logam",
        "Manufacture of other non-metallic mineral products",
    ),
    "24": ("Industri Logam Dasar", "Manufacture of basic metals"),
    "25": (
        "Industri Barang Logam, Bukan Mesin dan Peralatannya",
        "Manufacture of fabricated metal products, except machinery and equipment",
    ),
    "26": (
        "Industri Komputer, Barang Elektronik dan Optik",
        "Manufacture of computer, electronic and optical products",
    ),
    "27": ("Industri Peralatan Listrik", "Manufacture of electrical equipment"),
    "28": ("Industri Mesin dan Perlengkapan YTDL", "Manufacture of machinery and equipment n.e.c."),
    "29": (
        "Industri Kendaraan Bermotor, Trailer dan Semi Trailer",
        "Manufacture of motor vehicles, trailers and semi-trailers",
    ),
    "30": ("Industri Alat Angkutan Lainnya", "Manufacture of other transport equipment"),
    "31": ("Industri Furnitur", "Manufacture of furniture"),
    "32": ("Industri Pengolahan Lainnya", "Other manufacturing"),
    "33": (
        "Jasa Reparasi dan Pemasangan Mesin dan Peralatan",
        "Repair and installation of machinery and equipment",
    ),
}


def division(kbli: str) -> str:
    """The two-digit division of a KBLI code ("25120" -> "25")."""
    return (kbli or "")[:2]


def division_name(kbli: str, language: str | None = None) -> str:
    """The division's name in the language asked for (else the active one); "" outside 10-33."""
    names = DIVISIONS.get(division(kbli))
    if names is None:
        return ""
    language = language or translation.get_language() or "id"
    return names[1] if language.startswith("en") else names[0]


def divisions(language: str | None = None) -> list[tuple[str, str]]:
    """(division, name) of every manufacturing division, in order."""
    return [(code, division_name(code, language)) for code in DIVISIONS]
