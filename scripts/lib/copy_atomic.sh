# Sourced by the training recipes (scripts/train_*.sh) to publish weights: the copy goes through a temporary file
# next to the destination and a rename, so an interrupted copy never leaves a truncated model under that name.
copy_atomic() {  # source, destination
  mkdir -p "$(dirname "$2")" && cp "$1" "$2.tmp" && mv "$2.tmp" "$2" || { rm -f "$2.tmp"; return 1; }
}
