"""Tests for companion.text_augment: embedding synonyms against gensim's most_similar, the four
EDA operations (what they promise about length and content, inputs never modified, same seed ->
same output), deletion rates on statistics, and every validation message.

The statistical test uses 5 standard deviations of the binomial sampling error, so a correct
implementation fails about once in 3.5 million runs while a wrong rate (keeping with probability
p instead of 1 - p) fails always.
"""
import numpy as np
import pytest
from gensim.models import KeyedVectors
from hypothesis import given, settings
from hypothesis import strategies as st

from companion import text_augment as A

SYN = {"good": ["great", "fine"], "film": ["movie"], "movie": ["film"], "the": ["a"]}
SENTENCE = ["the", "good", "film", "was", "a", "good", "film"]
TOKENS = st.lists(st.sampled_from(["the", "good", "film", "movie", "was", "dull", "x"]), max_size=12)


@pytest.fixture(scope="module")
def kv():
    """Hand-made 3-d vectors: 'good' ~ 'great' ~ 'fine', 'film' ~ 'movie', 'cat' far from all."""
    words = ["good", "great", "fine", "film", "movie", "cat"]
    vectors = np.array([[1, 0.1, 0], [1, 0.2, 0], [0.9, 0, 0.3], [0, 1, 0.1], [0.1, 1, 0],
                        [0, 0, 1]], dtype=np.float32)
    keyed = KeyedVectors(vector_size=3)
    keyed.add_vectors(words, vectors)
    return keyed


# ================================================================ embedding_synonyms

def test_embedding_synonyms_are_gensim_neighbours_above_the_threshold(kv):
    synonyms = A.embedding_synonyms(kv, topn=3, min_similarity=0.5)
    expected = [w for w, s in kv.most_similar("good", topn=3) if s >= 0.5]
    assert synonyms("good") == expected == ["great", "fine"]
    assert synonyms("unknown-word") == []
    assert A.embedding_synonyms(kv, topn=5, min_similarity=-1.0)("cat") == \
        [w for w, _ in kv.most_similar("cat", topn=5)]
    first = synonyms("good")
    first.append("junk")  # the cache hands out copies
    assert synonyms("good") == ["great", "fine"]


def test_embedding_synonyms_drive_the_augmentations(kv):
    synonyms = A.embedding_synonyms(kv, topn=2, min_similarity=0.5)
    out = A.synonym_replacement(["a", "good", "film"], 2, synonyms, random_state=0)
    assert out[0] == "a" and out[1] in ("great", "fine") and out[2] == "movie"


def test_embedding_synonyms_bad_input(kv):
    with pytest.raises(TypeError, match="embedding_synonyms: keyed_vectors must be gensim KeyedVectors"):
        A.embedding_synonyms({"good": [1.0]})
    with pytest.raises(ValueError, match="embedding_synonyms: topn must be an integer >= 1; got 0"):
        A.embedding_synonyms(kv, topn=0)
    with pytest.raises(ValueError, match=r"embedding_synonyms: min_similarity must be in \[-1, 1\]; got 2"):
        A.embedding_synonyms(kv, min_similarity=2)
    with pytest.raises(TypeError, match="embedding_synonyms: min_similarity must be a number; got str"):
        A.embedding_synonyms(kv, min_similarity="0.5")


# ================================================================ synonym replacement

def test_synonym_replacement_replaces_every_occurrence_of_n_words_never_stopwords():
    out = A.synonym_replacement(SENTENCE, 1, SYN, random_state=0)
    changed = {a for a, b in zip(SENTENCE, out) if a != b}
    assert len(out) == len(SENTENCE) and len(changed) == 1 and changed <= {"good", "film"}
    word = changed.pop()
    new = {b for a, b in zip(SENTENCE, out) if a == word}
    assert len(new) == 1 and new.pop() in SYN[word]  # one synonym for all occurrences
    assert out[0] == "the"  # a stopword keeps its place even though it has a "synonym"
    both = A.synonym_replacement(SENTENCE, 5, SYN, random_state=0)
    assert {a for a, b in zip(SENTENCE, both) if a != b} == {"good", "film"}
    assert A.synonym_replacement(SENTENCE, 5, SYN, random_state=0, stopwords=())[0] == "a"


def test_synonym_replacement_callable_and_no_synonyms():
    assert A.synonym_replacement(SENTENCE, 2, lambda w: [w.upper()], random_state=1) != SENTENCE
    assert A.synonym_replacement(SENTENCE, 3, {}, random_state=0) == SENTENCE
    assert A.synonym_replacement(SENTENCE, 0, SYN, random_state=0) == SENTENCE
    assert A.synonym_replacement(SENTENCE, 2, lambda w: [w], random_state=0) == SENTENCE


# ================================================================ random insertion

def test_random_insertion_inserts_n_synonyms_of_sentence_words():
    out = A.random_insertion(SENTENCE, 3, SYN, random_state=0)
    assert len(out) == len(SENTENCE) + 3
    extra = list(out)
    for token in SENTENCE:  # removing the original tokens leaves only synonyms
        extra.remove(token)
    assert all(any(w in SYN[k] for k in SYN) for w in extra)
    assert A.random_insertion(["x", "y"], 3, SYN, random_state=0) == ["x", "y"]  # nothing to insert
    assert A.random_insertion([], 2, SYN, random_state=0) == []


# ================================================================ random deletion

def test_random_deletion_extremes_and_keeps_one_token():
    assert A.random_deletion(SENTENCE, 0.0, random_state=0) == SENTENCE
    out = A.random_deletion(SENTENCE, 1.0, random_state=0)
    assert len(out) == 1 and out[0] in SENTENCE
    assert A.random_deletion([], 0.5, random_state=0) == []


def test_random_deletion_rate_matches_p():
    tokens, p = [f"w{i}" for i in range(20_000)], 0.3
    kept = len(A.random_deletion(tokens, p, random_state=0))
    sd = np.sqrt(len(tokens) * p * (1 - p))
    assert abs(kept - len(tokens) * (1 - p)) < 5 * sd
    out = A.random_deletion(tokens, p, random_state=1)
    kept_set = set(out)
    assert out == [t for t in tokens if t in kept_set]  # order preserved


# ================================================================ random swap

def test_random_swap_is_a_permutation_and_one_swap_moves_two_tokens():
    tokens = list("abcdefg")
    out = A.random_swap(tokens, 1, random_state=0)
    assert sorted(out) == tokens and sum(a != b for a, b in zip(tokens, out)) == 2
    assert sorted(A.random_swap(tokens, 10, random_state=0)) == tokens
    assert A.random_swap(["solo"], 3, random_state=0) == ["solo"]
    assert A.random_swap(tokens, 0, random_state=0) == tokens


# ================================================================ shared properties

OPS = {
    "synonym_replacement": lambda t, rs: A.synonym_replacement(t, 2, SYN, random_state=rs),
    "random_insertion": lambda t, rs: A.random_insertion(t, 2, SYN, random_state=rs),
    "random_deletion": lambda t, rs: A.random_deletion(t, 0.4, random_state=rs),
    "random_swap": lambda t, rs: A.random_swap(t, 2, random_state=rs),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_same_seed_same_output_and_generators_continue_their_stream(name):
    op, tokens = OPS[name], SENTENCE * 3
    assert op(tokens, 7) == op(tokens, 7)
    assert op(tokens, np.random.default_rng(7)) == op(tokens, 7)
    rng = np.random.default_rng(7)
    draws = [op(tokens, rng) for _ in range(5)]
    assert any(d != draws[0] for d in draws[1:])  # the stream moves on


@settings(max_examples=50, deadline=None)
@given(TOKENS, st.integers(0, 2**16))
def test_inputs_never_modified_and_lengths_as_promised(tokens, seed):
    before = list(tokens)
    outs = {name: op(tokens, seed) for name, op in OPS.items()}
    assert tokens == before
    assert all(out is not tokens for out in outs.values())
    assert len(outs["synonym_replacement"]) == len(tokens)
    has_synonym = any(t in SYN for t in tokens)
    assert len(outs["random_insertion"]) == len(tokens) + (2 if has_synonym else 0)
    assert min(len(tokens), 1) <= len(outs["random_deletion"]) <= len(tokens)
    assert sorted(outs["random_swap"]) == sorted(tokens)


# ================================================================ bad input

@pytest.mark.parametrize("name", sorted(OPS))
def test_tokens_must_be_a_list_of_str(name):
    with pytest.raises(TypeError, match=f"{name}: tokens must be a list of str tokens .*; got str"):
        OPS[name]("the good film", 0)
    with pytest.raises(TypeError, match=f"{name}: tokens items must be str; got int"):
        OPS[name](["a", 1], 0)


def test_augmentation_bad_input():
    with pytest.raises(ValueError, match="synonym_replacement: n must be an integer >= 0; got -1"):
        A.synonym_replacement(SENTENCE, -1, SYN)
    with pytest.raises(TypeError, match="random_insertion: synonyms must be a callable word -> list\\[str\\] or a dict; got list"):
        A.random_insertion(SENTENCE, 1, ["great"])
    with pytest.raises(TypeError, match="random_insertion: n must be an integer; got float"):
        A.random_insertion(SENTENCE, 1.0, SYN)
    with pytest.raises(ValueError, match=r"random_deletion: p must be in \[0, 1\]; got 1.5"):
        A.random_deletion(SENTENCE, 1.5)
    with pytest.raises(ValueError, match="random_swap: n must be an integer >= 0; got -2"):
        A.random_swap(SENTENCE, -2)
    with pytest.raises(TypeError, match="random_swap: random_state must be None, an int seed or a np.random.Generator; got str"):
        A.random_swap(SENTENCE, 1, random_state="0")
