-- wrk script for the benchmark's mix: each request is a random line of the file named after
-- `--`, "<cookie>\t<path>", prepared by bench/run for many signed-in users of many companies.
local requests = {}
local host = os.getenv("MIX_HOST")

function init(args)
    for line in io.lines(args[1]) do
        local cookie, path = line:match("^([^\t]+)\t(.+)$")
        if cookie then
            requests[#requests + 1] = wrk.format("GET", path, { ["Host"] = host, ["Cookie"] = cookie })
        end
    end
    math.randomseed(os.time() + tonumber(tostring(requests):match("0x(%x+)") or "0", 16) % 1000)
end

function request()
    return requests[math.random(#requests)]
end
