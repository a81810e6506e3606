# The one definition of "this source includes torch" (directly, or through a detect2d/detect3d/train header or drr's
# tensor entry): such a source uses the shared torch PCH and joins its target's torch unity files
# (cmake/XrayliftTorch.cmake); tests/scripts/check_unity_groups.cmake checks the generated unity files with it.
set(XRAYLIFT_TORCH_INCLUDE_REGEX
    "^#include [<\"](torch/|ATen/|c10/|xraylift/(detect2d|detect3d|train)/|xraylift/drr/render_tensor)")
