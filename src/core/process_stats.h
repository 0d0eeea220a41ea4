#pragma once

namespace slidesparse {

// Peak resident set size of this process in MB (includes file pages of memory-mapped inputs that
// were touched, so a command reading a mapped checkpoint shows at least the part it read).
double peak_rss_mb();

}  // namespace slidesparse
