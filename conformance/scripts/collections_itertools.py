"""collections (Counter, deque, defaultdict, OrderedDict, namedtuple, ChainMap) and itertools/functools/operator/heapq/bisect with deterministic outputs."""
import bisect, functools, heapq, itertools, operator
from collections import ChainMap, Counter, OrderedDict, defaultdict, deque, namedtuple
c = Counter("mississippi")
print(c.most_common(3), sorted(c.elements())[:5], c.total(), c - Counter("miss"), c & Counter("sip"))
d = deque(range(5), maxlen=4)
d.appendleft(-1); d.rotate(2); d.extend([9, 8])
print(d, d.maxlen, d.count(9), list(reversed(d)))
dd = defaultdict(list)
for k, v in [("a", 1), ("b", 2), ("a", 3)]:
    dd[k].append(v)
print(dict(dd), dd["missing"], sorted(dd))
od = OrderedDict.fromkeys("abcde")
od.move_to_end("b"); od.move_to_end("e", last=False); od.popitem(last=False)
print(list(od), od == OrderedDict.fromkeys(list(od)))
P = namedtuple("P", "x y z", defaults=[0])
p = P(1, 2)
print(p, p._asdict(), p._replace(x=5), P._fields, P._field_defaults)
cm = ChainMap({"a": 1}, {"a": 2, "b": 3})
print(cm["a"], cm["b"], dict(cm), cm.new_child({"c": 4}).maps)
print(list(itertools.accumulate([1, 2, 3, 4], operator.mul)), list(itertools.accumulate([3, 1, 4], max, initial=2)))
print(list(itertools.permutations("abc", 2)), list(itertools.combinations(range(4), 3)), list(itertools.combinations_with_replacement("ab", 2)))
print(list(itertools.product("ab", repeat=2)), list(itertools.islice(itertools.count(10, 3), 4)), list(itertools.islice(itertools.cycle("xy"), 5)))
print([(k, list(g)) for k, g in itertools.groupby("aaabccdd")], list(itertools.chain.from_iterable([[1], [2, 3]])))
print(list(itertools.zip_longest("ab", "xyz", fillvalue="-")), list(itertools.starmap(pow, [(2, 5), (3, 2)])), list(itertools.pairwise("abcd")))
print(list(itertools.batched(range(7), 3)) if hasattr(itertools, "batched") else "", list(itertools.takewhile(lambda x: x < 3, range(10))), list(itertools.dropwhile(lambda x: x < 8, range(10))))
print(list(itertools.compress("abcdef", [1, 0, 1, 0, 1, 1])), list(itertools.filterfalse(str.isdigit, "a1b2")), [list(t) for t in itertools.tee(range(3), 2)])
print(functools.reduce(operator.add, range(10)), functools.partial(int, base=2)("1011"))
@functools.lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
print(fib(200), fib.cache_info())
@functools.singledispatch
def kind(x): return "object"
@kind.register
def _(x: int): return "int"
print(kind(1), kind("s"), kind(True))
print(sorted(["b", "A", "c"], key=functools.cmp_to_key(lambda a, b: (a.lower() > b.lower()) - (a.lower() < b.lower()))))
h = [5, 1, 8, 3, 9, 2]
heapq.heapify(h); print(h, heapq.heappop(h), heapq.nsmallest(2, h), heapq.nlargest(2, h), list(heapq.merge([1, 4], [2, 3])))
a = [1, 2, 4, 4, 8]
print(bisect.bisect_left(a, 4), bisect.bisect_right(a, 4), bisect.bisect(a, 5, key=None)); bisect.insort(a, 3); print(a)
print(operator.itemgetter(1, 0)("ab"), operator.attrgetter("real")(3 + 4j), operator.methodcaller("upper")("x"))
print(sorted({"b": 2, "a": 1, "c": 0}.items(), key=operator.itemgetter(1)), list(map(operator.neg, [1, -2])))
