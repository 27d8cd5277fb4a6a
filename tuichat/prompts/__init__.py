"""The prompt library: saved prompts with ``{{variables}}``, and the config's presets.

Headless (no Textual): ``tuichat ask -t``, ``tuichat prompts`` and the app's ``/`` picker
all read the same :class:`~tuichat.prompts.library.Library`.
"""

from tuichat.prompts.library import Library, load_library
from tuichat.prompts.template import PromptTemplate, Rendered, TemplateError

__all__ = ["Library", "PromptTemplate", "Rendered", "TemplateError", "load_library"]
