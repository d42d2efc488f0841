#include "engine/sgan/batch_layout.h"

namespace sgan {

namespace {
void append(BatchLayout& layout, int rows, SganRow kind, float weight) {
  layout.kinds.insert(layout.kinds.end(), static_cast<std::size_t>(rows), kind);
  layout.weights.insert(layout.weights.end(), static_cast<std::size_t>(rows), weight);
}
}  // namespace

BatchLayout discriminator_layout(int labeled, int unlabeled, int fake, float unsup_weight) {
  BatchLayout layout;
  if (labeled > 0) append(layout, labeled, SganRow::labeled, 1.0f / float(labeled));
  if (unlabeled > 0)
    append(layout, unlabeled, SganRow::unlabeled, unsup_weight / float(unlabeled));
  if (fake > 0) append(layout, fake, SganRow::fake, unsup_weight / float(fake));
  return layout;
}

BatchLayout generator_layout(int fake) {
  BatchLayout layout;
  append(layout, fake, SganRow::generator, 1.0f / float(fake));
  return layout;
}

}  // namespace sgan
