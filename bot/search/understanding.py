"""One question understood: the kind of request, what it is about, which part of it, how sure we are.

Three readings are combined, each doing what it is good at:
  * the words around level names (``bot.search.query``): which levels are named, typo-tolerantly, and the track;
  * the ladder's structure (``bot.search.relations``): next / previous / N steps / promoted to / a position /
    the asker's own level / the level the conversation was about;
  * the request classifier (``bot.search.classifier``), learned from the bank: what kind of answer is wanted.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.knowledge import Knowledge
from bot.search.query import Intent, Query
from bot.core.requestbank import IN_SCOPE, OUT_OF_SCOPE, SOCIAL
from bot.search.classifier import ABSTAIN, KindGuess, RequestClassifier, features
from bot.search.conversation import Conversation
from bot.search.ranking import Ranking
from bot.search.relations import Relation, Subject, resolve_subject

# the parts of a level a question can ask for; anything else gets the whole card
ASPECTS = ("requirements", "experience", "skills", "numbers", "duties")
_FROM_INTENT = {Intent.REQUIREMENTS: "requirements", Intent.COMPARE: "compare", Intent.PATH: "path",
                Intent.NEXT: "next", Intent.FACT: "fact", Intent.GLOSSARY: "glossary", Intent.OVERVIEW: "overview"}


@dataclass(frozen=True)
class Understanding:
    query: Query
    guess: KindGuess            # the classifier's reading (``guess.kind`` None: it abstained)
    subject: Subject            # what the question is about, by the ladder's structure
    aspect: str                 # the kind of answer to give: a KINDS entry, or "fact" (the word rules' fallback)
    context: Conversation
    step: KindGuess = ABSTAIN   # the step classifier's reading: same / up / down / between

    @property
    def kind(self) -> str | None:
        return self.guess.kind

    @property
    def confidence(self) -> float:
        return self.guess.confidence

    @property
    def relation(self) -> Relation:
        return self.subject.relation

    @property
    def social(self) -> bool:
        return self.kind in SOCIAL

    @property
    def out_of_scope(self) -> bool:
        """Refused by the classifier: the out-of-scope kinds together are sure enough (whichever one leads)."""
        return self.guess.refuse

    @property
    def in_scope(self) -> bool:
        return self.kind in IN_SCOPE


def understand_question(kb: Knowledge, query: Query, ranking: Ranking, classifier: RequestClassifier | None,
                        context: Conversation | None = None, track: str | None = None,
                        steps: RequestClassifier | None = None) -> Understanding:
    context = context or Conversation()
    guess = step = ABSTAIN
    if not (query.mentions and ranking.masked_vec is None):
        # a question that is nothing but a level's name ("team leed", "L3") asks for that level: nothing to classify
        x = features(ranking.qvec, ranking.masked_vec)
        if classifier is not None:
            guess = classifier.predict(classifier.inputs(x, query))
        if steps is not None:
            step = steps.predict(steps.inputs(x, query))
    subject = resolve_subject(kb, query, context, track, guess.kind, step.kind)
    if guess.kind is not None:
        aspect = guess.kind
    elif subject.relation == Relation.FOLLOWUP and context.last_level and context.last_level.aspect:
        aspect = context.last_level.aspect      # "and for expert?": the same question about another level
    else:
        aspect = _FROM_INTENT.get(query.intent, "requirements")
    return Understanding(query, guess, subject, aspect, context, step)
