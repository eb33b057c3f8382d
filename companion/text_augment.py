r"""Text augmentation on token lists: synonym replacement, random insertion, deletion and swap.

The four operations of "easy data augmentation" (EDA; Wei & Zou, 2019, arXiv:1901.11196), with
one change: synonyms come from learned word embeddings (nearest neighbours of a gensim
``KeyedVectors``, see :func:`embedding_synonyms`) or from a dict, instead of WordNet. Embedding
"synonyms" are words used in similar contexts, which includes antonyms ("good" / "bad") and
related words: an augmentation can change the label of a sentiment example, so use a small n.

Every function takes a list of str tokens, returns a NEW list (the input is never modified) and
draws from ``random_state`` (None, an int seed or a ``np.random.Generator``): the same seed gives
the same output. ``synonyms`` is a callable word -> list[str] or a dict word -> list[str].
These names are re-exported by :mod:`companion.text`.
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping

from .validation import check_int, check_probability, check_random_state, check_type

__all__ = [
    "STOPWORDS",
    "embedding_synonyms",
    "synonym_replacement",
    "random_insertion",
    "random_deletion",
    "random_swap",
]

#: Function words never replaced by :func:`synonym_replacement` (their "synonyms" make no sense).
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has
have having he her here hers herself him himself his how i if in into is it its itself just me
more most my myself no nor not now of off on once only or other our ours ourselves out over own
same she should so some such than that the their theirs them themselves then there these they
this those through to too under until up very was we were what when where which while who whom
why will with would you your yours yourself yourselves
""".split())


# ---------------------------------------------------------------- checks shared by this module

def _check_tokens(func: str, tokens, name: str = "tokens") -> list[str]:
    """A copy of ``tokens`` as a list of str; a bare string is a clear TypeError."""
    if isinstance(tokens, str) or not isinstance(tokens, (list, tuple)):
        raise TypeError(f"{func}: {name} must be a list of str tokens (e.g. text.tokenize(s)); "
                        f"got {type(tokens).__name__}")
    for token in tokens:
        check_type(func, f"{name} items", token, str, "str")
    return list(tokens)


def _lookup(func: str, synonyms):
    """A function word -> list of synonyms other than the word, from a callable or a dict."""
    if isinstance(synonyms, Mapping):
        get = lambda word: synonyms.get(word, [])          # noqa: E731
    elif callable(synonyms):
        get = synonyms
    else:
        raise TypeError(f"{func}: synonyms must be a callable word -> list[str] or a dict; "
                        f"got {type(synonyms).__name__}")
    return lambda word: [s for s in get(word) if s != word]


# ---------------------------------------------------------------- synonyms from embeddings

def embedding_synonyms(keyed_vectors, *, topn: int = 5, min_similarity: float = 0.5):
    r"""A synonym function from learned embeddings: word -> its nearest neighbours.

    ``synonyms(word)`` = the words among ``keyed_vectors.most_similar(word, topn=topn)`` whose
    cosine similarity is >= ``min_similarity``, most similar first; ``[]`` for a word the model
    does not know (or when no neighbour is close enough). Results are cached per word.

    Args: keyed_vectors: gensim ``KeyedVectors`` (e.g. ``Word2Vec(...).wv``); topn >= 1;
    min_similarity in [-1, 1]. Returns: a callable str -> list[str].
    """
    func = "embedding_synonyms"
    if not callable(getattr(keyed_vectors, "most_similar", None)):
        raise TypeError(f"{func}: keyed_vectors must be gensim KeyedVectors (with most_similar); "
                        f"got {type(keyed_vectors).__name__}")
    topn = check_int(func, "topn", topn, 1)
    if isinstance(min_similarity, bool) or not isinstance(min_similarity, numbers.Real):
        raise TypeError(f"{func}: min_similarity must be a number; "
                        f"got {type(min_similarity).__name__}")
    if not -1.0 <= min_similarity <= 1.0:
        raise ValueError(f"{func}: min_similarity must be in [-1, 1]; got {min_similarity}")
    cache: dict[str, list[str]] = {}

    def synonyms(word: str) -> list[str]:
        if word not in cache:
            known = word in keyed_vectors.key_to_index
            pairs = keyed_vectors.most_similar(word, topn=topn) if known else []
            cache[word] = [w for w, score in pairs if score >= min_similarity]
        return list(cache[word])                           # a copy: callers may modify it

    return synonyms


# ---------------------------------------------------------------- the four EDA operations

def synonym_replacement(tokens, n: int, synonyms, *, random_state=None,
                        stopwords=STOPWORDS) -> list[str]:
    """Replace up to ``n`` distinct non-stopwords by a random synonym each (all occurrences).

    Candidate words (not in ``stopwords``) are visited in random order; a word with at least
    one synonym has every occurrence replaced by one synonym drawn uniformly, until ``n`` words
    are replaced (fewer if fewer words have synonyms). The length never changes.

    Args: tokens: list of str; n >= 0; synonyms: callable or dict; stopwords: a set of words
    never replaced. Returns: a new list of the same length.
    """
    func = "synonym_replacement"
    tokens = _check_tokens(func, tokens)
    n = check_int(func, "n", n, 0)
    get = _lookup(func, synonyms)
    rng = check_random_state(func, random_state)
    candidates = sorted({t for t in tokens if t not in stopwords})   # sorted: a set's order varies
    replaced = 0
    for i in rng.permutation(len(candidates)):
        if replaced == n:
            break
        word, options = candidates[i], get(candidates[i])
        if options:
            new = options[rng.integers(len(options))]
            tokens = [new if t == word else t for t in tokens]
            replaced += 1
    return tokens


def random_insertion(tokens, n: int, synonyms, *, random_state=None) -> list[str]:
    """Insert ``n`` times a synonym of a random word of the sentence at a random position.

    Each step draws a word among the current tokens that have synonyms, one of its synonyms,
    and a position in ``[0, len]``. If no token has a synonym the tokens come back unchanged;
    otherwise the result is exactly ``n`` tokens longer.

    Args: tokens: list of str; n >= 0; synonyms: callable or dict.
    Returns: a new list of length ``len(tokens) + n`` (or ``len(tokens)``, see above).
    """
    func = "random_insertion"
    tokens = _check_tokens(func, tokens)
    n = check_int(func, "n", n, 0)
    get = _lookup(func, synonyms)
    rng = check_random_state(func, random_state)
    for _ in range(n):
        usable = [t for t in tokens if get(t)]
        if not usable:
            break
        options = get(usable[rng.integers(len(usable))])
        word = options[rng.integers(len(options))]
        tokens.insert(int(rng.integers(len(tokens) + 1)), word)      # tokens is our own copy
    return tokens


def random_deletion(tokens, p: float, *, random_state=None) -> list[str]:
    """Delete each token independently with probability ``p``, keeping at least one token.

    If every token is drawn for deletion, one token chosen uniformly is kept (so a non-empty
    sentence stays non-empty); an empty input gives an empty list.

    Args: tokens: list of str; p in [0, 1]. Returns: a new list, 1 <= length <= len(tokens).
    """
    func = "random_deletion"
    tokens = _check_tokens(func, tokens)
    check_probability(func, "p", p)
    rng = check_random_state(func, random_state)
    if not tokens:
        return []
    keep = rng.random(len(tokens)) >= p                               # delete with probability p
    if not keep.any():
        return [tokens[rng.integers(len(tokens))]]
    return [t for t, k in zip(tokens, keep) if k]


def random_swap(tokens, n: int, *, random_state=None) -> list[str]:
    """Swap two randomly chosen positions, ``n`` times.

    The two positions of a swap are distinct (when there are at least two tokens), so the
    result is a permutation of the input: same length, same multiset of words, new order.

    Args: tokens: list of str; n >= 0. Returns: a new list of the same length.
    """
    func = "random_swap"
    tokens = _check_tokens(func, tokens)
    n = check_int(func, "n", n, 0)
    rng = check_random_state(func, random_state)
    if len(tokens) < 2:
        return tokens
    for _ in range(n):
        i, j = rng.choice(len(tokens), size=2, replace=False)
        tokens[i], tokens[j] = tokens[j], tokens[i]                   # tokens is our own copy
    return tokens
