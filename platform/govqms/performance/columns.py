"""Header names one-stop-shop exports use for each field (data: matched with and without accents)."""

HEADERS = {
    "period": ("Kỳ", "kỳ báo cáo", "tháng", "period", "month"),
    "procedure_code": ("Mã thủ tục", "mã tthc", "procedure", "procedure code"),
    "received": ("Tiếp nhận", "tổng số hồ sơ", "số hồ sơ tiếp nhận", "received"),
    "resolved_early": ("Trước hạn", "giải quyết trước hạn", "early"),
    "resolved_on_time": ("Đúng hạn", "giải quyết đúng hạn", "on time"),
    "resolved_late": ("Quá hạn", "trễ hạn", "giải quyết quá hạn", "late"),
    "pending": ("Đang giải quyết", "chưa giải quyết", "pending"),
}
