// Reads "user item rating ..." lines (MovieLens u*.base/u*.test, gen_synth.py's train.txt) for the
// benchmark programs. With threshold > 0, only rows rated >= threshold are kept, with value 1.
#pragma once
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

struct RatingRows
{
    std::vector<int64_t> users, items;
    std::vector<float> values;
};

inline RatingRows
read_rating_file(const char *path, double threshold = 0)
{
    RatingRows rows;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line))
    {
        std::istringstream fields(line);
        int64_t u, i;
        double r;
        if (!(fields >> u >> i >> r) || (threshold > 0 && r < threshold))
            continue;
        rows.users.push_back(u);
        rows.items.push_back(i);
        rows.values.push_back(threshold > 0 ? 1.0f : float(r));
    }
    return rows;
}
