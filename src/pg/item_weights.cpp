// Loading an item-item model's weights (rec.item_weights) into a model image.
#include "pg/item_weights.hpp"

namespace rec::pg {

void
load_item_weights(const ServedModel &m, const int64 *item_ids, int64 *row_offsets, int32 *neighbours, float *weights)
{
    Datum args[] = {Int64GetDatum(m.model_id)};
    Oid types[] = {INT8OID};
    Portal rows = SPI_cursor_open_with_args(nullptr,
                                            "SELECT item_id, neighbours, weights FROM rec.item_weights "
                                            "WHERE model_id = $1 ORDER BY item_id",
                                            1, types, args, nullptr, true, 0);
    int64 at = 0;
    int32 n = 0;
    bool fits = true;
    for (;;)
    {
        SPI_cursor_fetch(rows, true, 256);
        if (SPI_processed == 0)
            break;
        for (uint64 r = 0; r < SPI_processed && fits; ++r, ++n)
        {
            HeapTuple t = SPI_tuptable->vals[r];
            TupleDesc d = SPI_tuptable->tupdesc;
            bool null_neighbours, isnull;
            const int64 item_id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
            const Datum listed = SPI_getbinval(t, d, 2, &null_neighbours);
            ArrayType *values = DatumGetArrayTypeP(SPI_getbinval(t, d, 3, &isnull));
            const int count = ArrayGetNItems(ARR_NDIM(values), ARR_DIMS(values));
            fits = n < m.n_items && item_ids[n] == item_id && null_neighbours == m.dense_weights &&
                   !ARR_HASNULL(values) && at + count <= m.n_weights && (!m.dense_weights || count == m.n_items);
            if (!fits)
                break;
            if (!m.dense_weights)
            {
                ArrayType *list = DatumGetArrayTypeP(listed);
                fits = ArrayGetNItems(ARR_NDIM(list), ARR_DIMS(list)) == count && !ARR_HASNULL(list);
                for (int e = 0; fits && e < count; ++e)
                {
                    const int32 j = ((const int32 *) ARR_DATA_PTR(list))[e];
                    fits = j >= 0 && j < m.n_items;
                    neighbours[at + e] = j;
                }
                row_offsets[n] = at;
            }
            memcpy(weights + at, ARR_DATA_PTR(values), sizeof(float) * size_t(count));
            at += count;
        }
        SPI_freetuptable(SPI_tuptable);
        CHECK_FOR_INTERRUPTS();
        if (!fits)
            break;
    }
    SPI_cursor_close(rows);
    if (!fits || n != m.n_items || at != m.n_weights)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                        errmsg("item weights of model %lld do not match the model", (long long) m.model_id),
                        errhint("Train the model again.")));
    if (!m.dense_weights)
        row_offsets[m.n_items] = at;
}

}  // namespace rec::pg
