"""Sign-in code senders: the file sender (used by the store-day load test against a real server) appends one JSON
line per code, and the setting chooses the sender."""
import json

from yundian.members import senders


def test_the_file_sender_appends_one_json_line_per_code(tmp_path, settings):
    settings.MEMBER_CODE_FILE = tmp_path / "codes.jsonl"
    settings.MEMBER_CODE_SENDER = senders.FILE
    sender = senders.get_sender()
    assert isinstance(sender, senders.FileCodeSender)
    sender.send(senders.CodeMessage(phone="13800000001", code="123456", text="验证码 123456"))
    sender.send(senders.CodeMessage(phone="13800000002", code="654321", text="验证码 654321"))
    lines = (tmp_path / "codes.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [{"phone": "13800000001", "code": "123456"},
                                                    {"phone": "13800000002", "code": "654321"}]


def test_under_tests_the_default_sender_is_the_outbox(settings):
    settings.MEMBER_CODE_SENDER = None
    senders.outbox.clear()
    senders.get_sender().send(senders.CodeMessage(phone="13800000003", code="111222", text="x"))
    assert senders.last_code("13800000003") == "111222" and senders.last_code("13800000004") is None


def test_the_console_sender_prints_the_code_whatever_the_log_level(settings, capsys):
    settings.MEMBER_CODE_SENDER = senders.CONSOLE
    senders.get_sender().send(senders.CodeMessage(phone="13800000005", code="333444", text="验证码 333444"))
    assert "13800000005: 验证码 333444" in capsys.readouterr().err
