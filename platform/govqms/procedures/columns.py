"""Header names accepted in an imported procedure catalogue (data: matched with and without accents)."""

HEADERS = {
    "code": ("Mã thủ tục", "mã", "mã tthc", "mã số", "mã số thủ tục", "mã thủ tục hành chính", "mã số tthc", "code"),
    "name": ("Tên thủ tục", "tên", "tên tthc", "tên thủ tục hành chính", "thủ tục hành chính", "name"),
    "field": ("Lĩnh vực", "tên lĩnh vực", "lĩnh vực thực hiện", "field"),
    "work_procedure": ("Mã quy trình", "quy trình", "work procedure"),
}
