// An item-item model's weights (ease, itemknn) as stored: rec.item_weights holds one row per item,
// in item id order, its neighbours as item indexes (positions in item id order; NULL for a dense row,
// which lists every item in order) and their weights. PostgreSQL-style code: errors by ereport.
#pragma once
#include "pg/model_image.hpp"

namespace rec::pg {

// Reads the rows of version m.model_id into the image's arrays (row_offsets and neighbours unused for
// dense weights), checked against the header's counts (m.n_items rows, m.n_weights weights, the rows'
// item ids equal to item_ids); raises a corruption error otherwise. Runs inside the loader's SPI session.
void load_item_weights(const ServedModel &m, const int64 *item_ids, int64 *row_offsets, int32 *neighbours,
                       float *weights);

}  // namespace rec::pg
