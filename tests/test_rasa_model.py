import shutil

from bot.config import PROJECT_ROOT
from bot.rasa_model import MODEL_INPUTS, inputs_hash


def test_model_key_changes_with_training_data_and_not_otherwise(tmp_path):
    for name in MODEL_INPUTS:
        src = PROJECT_ROOT / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name)
        elif src.exists():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, tmp_path / name)
    before = inputs_hash(tmp_path)
    (tmp_path / "README.md").write_text("not a model input")
    assert inputs_hash(tmp_path) == before
    nlu = tmp_path / "data" / "nlu" / "general.yml"
    nlu.write_text(nlu.read_text(encoding="utf-8") + "      - 你好你好\n", encoding="utf-8")
    assert inputs_hash(tmp_path) != before


def test_model_key_follows_the_rasa_pins_not_their_hashes(tmp_path):
    lock = tmp_path / "requirements" / "rasa.lock"
    lock.parent.mkdir()
    lock.write_text("# header\nrasa==3.6.21 \\\n    --hash=sha256:aaaa\njieba==0.42.1 \\\n    --hash=sha256:bbbb\n")
    (tmp_path / "__pycache__").mkdir()
    before = inputs_hash(tmp_path)
    lock.write_text(
        "# other header\nrasa==3.6.21 \\\n    --hash=sha256:cccc \\\n    --hash=sha256:dddd\njieba==0.42.1 \\\n    --hash=sha256:bbbb\n"
    )
    (tmp_path / "nlu_components" / "__pycache__").mkdir(parents=True)
    (tmp_path / "nlu_components" / "__pycache__" / "x.pyc").write_bytes(b"compiled")
    assert inputs_hash(tmp_path) == before
    lock.write_text("rasa==3.6.20 \\\n    --hash=sha256:aaaa\njieba==0.42.1 \\\n    --hash=sha256:bbbb\n")
    assert inputs_hash(tmp_path) != before


def test_callers_at_once_train_the_model_once(tmp_path, monkeypatch):
    import threading
    import time

    import bot.rasa_model as rasa_model

    monkeypatch.setattr(rasa_model, "CACHE_DIR", tmp_path)
    monkeypatch.setattr(rasa_model, "inputs_hash", lambda root=None: "k")
    trained = []

    def slow_train(key, cached, root):
        trained.append(key)
        time.sleep(0.5)
        cached.write_bytes(b"model")

    monkeypatch.setattr(rasa_model, "_train", slow_train)
    paths = []
    threads = [threading.Thread(target=lambda: paths.append(rasa_model.ensure_model())) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert trained == ["k"]
    assert paths == [tmp_path / "k.tar.gz"] * 3
