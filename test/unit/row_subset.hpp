// Rows [begin, end) of one side of the interactions as their own SparseRows (columns unchanged), as a
// Citus worker holding those rows would have them: for the half-step tests of als and ials.
#pragma once
#include "core/interactions.hpp"

inline rec::core::SparseRows
row_subset(const rec::core::SparseRows &rows, size_t begin, size_t end)
{
    rec::core::SparseRows out;
    out.offsets.push_back(0);
    for (size_t r = begin; r < end; ++r)
    {
        for (size_t e = rows.offsets[r]; e < rows.offsets[r + 1]; ++e)
        {
            out.columns.push_back(rows.columns[e]);
            out.values.push_back(rows.values[e]);
            if (rows.weighted())
                out.weights.push_back(rows.weights[e]);
        }
        out.offsets.push_back(out.columns.size());
    }
    return out;
}
