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
