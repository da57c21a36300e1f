#!/usr/bin/env python3
"""A second implementation of the official SQuAD evaluation, for libs/data/src/squad-metrics.test.ts.

Written from the rules of the official scripts (evaluate-v1.1.py and evaluate-v2.0.py), in
plain Python 3 with the standard library only, so that the TypeScript metric is checked against
Python's own str.lower, str.split, string.punctuation and re's Unicode word boundaries rather
than against itself.

  squad_eval.py cases            JSON on stdin: [{"golds": [...], "pred": "..."}, ...]; prints per case
                                 the v2.0 exact/f1 (max over golds, [] = unanswerable), the v1.1
                                 exact/f1 (when golds is not empty), and normalize_answer of every string
  squad_eval.py eval DATA PREDS  the official v2.0 output for a SQuAD JSON file and a predictions.json
                                 ({id: answer}) with "v1" the v1.1 script's {exact_match, f1}
                                 (only when every question has an answer)
"""
import collections
import json
import re
import string
import sys


# both scripts: lower, remove string.punctuation, remove the articles as whole words, fix whitespace
def normalize_answer(s):
    def remove_articles(text):
        return re.sub(r'\b(a|an|the)\b', ' ', text, flags=re.UNICODE)

    def white_space_fix(text):
        return ' '.join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


# ---- v2.0 rules
def get_tokens(s):
    if not s:
        return []
    return normalize_answer(s).split()


def compute_exact(a_gold, a_pred):
    return int(normalize_answer(a_gold) == normalize_answer(a_pred))


def compute_f1(a_gold, a_pred):
    gold_toks = get_tokens(a_gold)
    pred_toks = get_tokens(a_pred)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        # no answer on either side: F1 is 1 if both are empty, else 0
        return int(gold_toks == pred_toks)
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(pred_toks)
    recall = 1.0 * num_same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)


def v2_gold_answers(answers):
    gold = [a for a in answers if normalize_answer(a)]
    return gold if gold else ['']  # unanswerable: the only right answer is ''


def v2_scores(answers, pred):
    gold = v2_gold_answers(answers)
    return max(compute_exact(a, pred) for a in gold), max(compute_f1(a, pred) for a in gold)


# ---- v1.1 rules
def v1_f1_score(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = collections.Counter(prediction_tokens) & collections.Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def v1_exact_match_score(prediction, ground_truth):
    return normalize_answer(prediction) == normalize_answer(ground_truth)


def v1_scores(answers, pred):
    return max(v1_exact_match_score(pred, a) for a in answers), max(v1_f1_score(pred, a) for a in answers)


# ---- a file
def evaluate_v2(dataset, preds):
    exact_scores, f1_scores, has_ans = {}, {}, {}
    for article in dataset:
        for p in article['paragraphs']:
            for qa in p['qas']:
                qid = qa['id']
                answers = [a['text'] for a in qa['answers']]
                has_ans[qid] = bool(qa['answers'])
                if qid not in preds:
                    continue  # the v2.0 script skips (and warns about) a missing prediction
                exact_scores[qid], f1_scores[qid] = v2_scores(answers, preds[qid])

    def make_eval_dict(qids):
        total = len(qids)
        return collections.OrderedDict([
            ('exact', 100.0 * sum(exact_scores[k] for k in qids) / total),
            ('f1', 100.0 * sum(f1_scores[k] for k in qids) / total),
            ('total', total),
        ])

    out = make_eval_dict(list(exact_scores))
    for prefix, wanted in (('HasAns', True), ('NoAns', False)):
        qids = [k for k in exact_scores if has_ans[k] == wanted]
        if qids:
            for k, v in make_eval_dict(qids).items():
                out['%s_%s' % (prefix, k)] = v
    return out


def evaluate_v1(dataset, preds):
    f1 = exact_match = total = 0
    for article in dataset:
        for p in article['paragraphs']:
            for qa in p['qas']:
                total += 1
                if qa['id'] not in preds:
                    continue  # the v1.1 script counts a missing prediction as 0
                answers = [a['text'] for a in qa['answers']]
                em, f = v1_scores(answers, preds[qa['id']])
                exact_match += em
                f1 += f
    return {'exact_match': 100.0 * exact_match / total, 'f1': 100.0 * f1 / total}


def main(argv):
    if argv[1:2] == ['cases']:
        out = []
        for case in json.load(sys.stdin):
            golds, pred = case['golds'], case['pred']
            em, f1 = v2_scores(golds, pred)
            r = {'v2_exact': em, 'v2_f1': f1, 'pred_norm': normalize_answer(pred), 'golds_norm': [normalize_answer(g) for g in golds]}
            if golds:
                em1, f11 = v1_scores(golds, pred)
                r.update(v1_exact=int(em1), v1_f1=f11)
            out.append(r)
        json.dump(out, sys.stdout)
        return 0
    if argv[1:2] == ['eval'] and len(argv) == 4:
        with open(argv[2], encoding='utf-8') as f:
            dataset = json.load(f)['data']
        with open(argv[3], encoding='utf-8') as f:
            preds = json.load(f)
        out = evaluate_v2(dataset, preds)
        if all(qa['answers'] for a in dataset for p in a['paragraphs'] for qa in p['qas']):
            out['v1'] = evaluate_v1(dataset, preds)
        json.dump(out, sys.stdout)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
