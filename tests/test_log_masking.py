import io
import logging

from bot.log_masking import install_log_masking


def test_personal_numbers_are_masked_in_what_handlers_write():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        install_log_masking(("",))
        logging.getLogger("actions.urgent").warning("居民电话 13812345678，身份证 510722199001011234")
    finally:
        root.removeHandler(handler)
    written = stream.getvalue()
    assert "13812345678" not in written and "510722199001011234" not in written
    assert "138****5678" in written
