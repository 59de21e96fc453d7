"""The names the language's layers import about functions, read from the operation
registry (matgrad_cli/ops/): one table, seen from here too."""
from .ops import (ENTRYWISE, FUNCTION_NAMES, NOT_FUNCTIONS, NUMPY_SOURCE, SIZED,  # noqa: F401
                  STRUCTURAL)
from .ops.entrywise import _sigmoid, _step  # noqa: F401
from .ops.structural import (_det, _diag, _diag_matrix, _inv, _kron, _logdet,  # noqa: F401
                             _logsumexp, _pinv, _softmax, _trace)
