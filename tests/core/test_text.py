"""Vietnamese text: folding for search and the sort order of names."""
from __future__ import annotations

from govqms.core.text import fold, sort_key


def test_fold_removes_diacritics():
    assert fold("  Quy trình  Tiếp nhận ĐƠN ") == "quy trinh tiep nhan don"


def test_names_sort_the_vietnamese_way():
    names = ["Sở Y tế", "Sở Đào tạo", "Sở Du lịch", "Sở Ăn uống", "Sở An ninh", "Sở Âm nhạc", "Sở Bạc", "Sở Bác",
             "Sở Ba", "Ủy ban", "Văn phòng", "Ô tô", "Ơn", "Oanh"]
    assert sorted(names, key=sort_key) == [
        "Oanh", "Ô tô", "Ơn",  # o < ô < ơ
        "Sở An ninh", "Sở Ăn uống", "Sở Âm nhạc",  # a < ă < â, whatever follows
        "Sở Ba", "Sở Bác", "Sở Bạc",  # tones only break ties: none, sắc, nặng
        "Sở Du lịch", "Sở Đào tạo",  # d < đ
        "Sở Y tế", "Ủy ban", "Văn phòng",
    ]
