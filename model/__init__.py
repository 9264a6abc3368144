"""rebut's inference: comment text -> sentences -> ONNX models -> Result.

Imports onnxruntime, tokenizers and numpy; never torch (tests/test_packaging.py checks).

    from model import Pipeline, ArticleIn, CommentIn
    pipeline = Pipeline.from_dir()       # the bundled artifacts in model/artifacts
    result = pipeline.score(CommentIn(id="c1", text="..."), ArticleIn(id="a1", body="..."))
    print(result.model_dump_json())
"""

from model.errors import EmptyText, InputError, TextTooLong, UnknownArticle
from model.pipeline import Pipeline
from model.result import ArticleIn, CommentIn, ErrorRecord, Result

__all__ = [
    "ArticleIn",
    "CommentIn",
    "EmptyText",
    "ErrorRecord",
    "InputError",
    "Pipeline",
    "Result",
    "TextTooLong",
    "UnknownArticle",
]
