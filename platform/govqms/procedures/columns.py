"""Header names accepted in an imported procedure catalogue (data: matched with and without accents)."""

HEADERS = {
    "code": ("Mã thủ tục", "mã", "mã tthc", "code"),
    "name": ("Tên thủ tục", "tên", "tên tthc", "name"),
    "field": ("Lĩnh vực", "field"),
    "work_procedure": ("Mã quy trình", "quy trình", "work procedure"),
}
