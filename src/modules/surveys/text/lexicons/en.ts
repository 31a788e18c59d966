import type { Lexicon } from './types.js';

export const en: Lexicon = {
  positive: [
    'good', 'great', 'excellent', 'fantastic', 'wonderful', 'amazing', 'awesome', 'superb', 'perfect', 'brilliant',
    'fast', 'quick', 'prompt', 'friendly', 'helpful', 'polite', 'kind', 'courteous', 'professional', 'efficient',
    'love', '=like', '=liked', 'enjoy', 'happy', 'glad', 'pleased', 'satisfied', 'delight', 'impress', 'recommend',
    'easy', 'easily', 'smooth', 'convenient', 'nice', 'pleasant', 'fresh', 'tasty', 'delicious', 'best', 'better',
    'thank', 'thanks', 'affordable', 'reasonabl', 'bargain', 'well done', 'on time', 'punctual', 'reliable', 'clean',
    'beautiful', 'lovely', '=top', 'intuitive', 'worth', 'generous', 'welcoming', 'attentive', 'cheerful', 'super',
    'appreciat', 'patient', 'tidy', 'organised', 'organized', 'seamless', '=helped', 'solved', 'resolved', 'fixed', 'knowledgeable', 'accommodating', 'pleasure', 'comfortable', 'spotless', 'exceeded', 'greet', 'smiling', 'competent', 'gladly',
  ],
  negative: [
    'bad', 'terrible', 'awful', 'horrible', 'dreadful', 'poor', 'worst', 'worse', 'slow', '=late', 'delay',
    'rude', 'unfriendly', 'unhelpful', 'impolite', 'broken', 'damage', 'wrong', 'missing', 'disappoint',
    'expensive', 'overpriced', 'pricey', 'problem', 'issue', 'complain', 'useless', 'crash', 'bug', 'buggy', 'hate',
    'annoy', 'frustrat', 'lost', 'fail', 'error', 'mess', 'confusing', 'difficult', 'dirty', 'stale', 'cold',
    'waste', 'ridiculous', 'unacceptable', 'forever', 'ages', 'nightmare', 'scam', 'angry', 'upset', 'ignored',
    'unprofessional', 'sloppy', 'freez', 'laggy', 'mistake', 'never again', 'too long', 'waited',
    'sour', 'spoil', 'expired', 'mould', 'mold', 'rotten', 'overcharg', 'charged twice', 'double charged', 'stuck', 'unable', 'queue', 'far too', 'unanswered', 'misleading', 'hidden fee', 'noisy', 'crowded', 'smell', 'stain', 'leak', 'faulty', 'defective', 'incorrect', 'inaccurate', 'outdated', 'glitch', 'unreliable', 'unavailable', 'out of stock', 'sold out', 'torn', 'scratch',
  ],
  negativeWhenNegated: ['work', 'load', 'open', 'arriv', 'help', 'answer', 'respond', 'reply', 'ring', 'call', 'show',
    'could', 'able', 'enough',
  ],
  negators: ['not', 'no', 'never', 'nothing', 'without', 'hardly', "n't", 'nobody', 'neither', 'nor', 'cannot'],
  contrast: ['but', 'however', 'although', 'though', 'yet'],
  stopwords: [
    'a', 'an', 'the', 'and', 'or', 'but', 'if', 'then', 'so', 'to', 'of', 'in', 'on', 'at', 'by', 'for', 'with', 'from',
    'about', 'as', 'into', 'over', 'after', 'before', 'is', 'are', 'was', 'were', 'be', 'been', 'being', 'am', 'do',
    'does', 'did', 'have', 'has', 'had', 'i', 'me', 'my', 'we', 'our', 'us', 'you', 'your', 'he', 'she', 'it', 'its',
    'they', 'them', 'their', 'this', 'that', 'these', 'those', 'there', 'here', 'very', 'really', 'too', 'also', 'just',
    'only', 'again', 'all', 'any', 'some', 'more', 'most', 'much', 'many', 'what', 'which', 'who', 'when', 'where',
    'why', 'how', 'will', 'would', 'could', 'should', 'can', 'not', 'no', "don't", "didn't", "doesn't", "wasn't",
    "isn't", "i'm", "it's", 'up', 'out', 'one', 'two', 'three', 'got', 'get', 'even', 'still', 'than', 'because',
  ],
  suffixes: ['ies', 'ing', 'ed', 'es', 's', 'ly', 'y'],
  markers: ['the', 'and', 'is', 'was', 'were', 'very', 'not', 'with', 'for', 'my', 'it', 'this', 'they', 'but', 'have', 'had', 'i', 'of', 'to', 'you', 'your'],
};
