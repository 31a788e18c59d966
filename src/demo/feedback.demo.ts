/**
 * What Brew & Bloom's customers write in the demo surveys' free-text questions and through the feedback button:
 * short comments in the five languages, by sentiment, about what a coffee shop with an online store hears about
 * (coffee, staff, queues, prices, delivery, the app). Picked by the demo's seeded generator, so every run writes
 * the same answers.
 */
import type { Language } from '../modules/surveys/surveys.types.js';

export type Tone = 'negative' | 'neutral' | 'positive';

export const DEMO_COMMENTS: Record<Language, Record<Tone, readonly string[]>> = {
  en: {
    negative: [
      'The queue on Saturday morning was far too long and nobody opened a second till.',
      'My delivery arrived two days late and the beans were already stale.',
      'The flat white was lukewarm and the barista did not seem to care.',
      'Prices went up again but the portions got smaller.',
      'The app keeps logging me out and I lost my stamps.',
      'I was charged twice for one order and still have no refund.',
      'The oat milk was out of stock for the third time this week.',
      'Rude staff at the Vitosha store, I will not come back soon.',
    ],
    neutral: [
      'Coffee is fine, nothing special.',
      'I usually order online, the shop itself I rarely visit.',
      'Delivery took the usual three days.',
      'It depends on who is working that day.',
      'I came for the loyalty points mostly.',
      'Okay overall, a bit expensive for every day.',
    ],
    positive: [
      'Best espresso in town and the staff remember my order.',
      'Fast delivery, beautifully packed, the Ethiopian roast is excellent.',
      'Love the new seasonal blend, friendly baristas as always.',
      'Great service, my refund was sorted in minutes.',
      'The app makes ordering ahead really easy, thank you!',
      'Cosy place, good music and great cakes.',
      'Always fresh beans and helpful advice on brewing.',
    ],
  },
  bg: {
    negative: [
      'Опашката в събота сутрин беше огромна, а касата беше само една.',
      'Доставката закъсня с два дни и кафето беше вече старо.',
      'Кафето беше хладко, а баристата изобщо не се интересуваше.',
      'Цените пак се вдигнаха, а порциите станаха по-малки.',
      'Приложението постоянно ме изхвърля и изгубих печатите си.',
      'Таксуваха ме два пъти за една поръчка и още нямам възстановени пари.',
      'Нямаше овесено мляко за трети път тази седмица.',
      'Грубо отношение в магазина на Витоша, няма да дойда скоро.',
    ],
    neutral: [
      'Кафето е нормално, нищо особено.',
      'Обикновено поръчвам онлайн, рядко идвам в магазина.',
      'Доставката отне обичайните три дни.',
      'Зависи кой е на смяна.',
      'Идвам главно заради точките.',
      'Като цяло добре, малко скъпо за всеки ден.',
    ],
    positive: [
      'Най-доброто еспресо в града, а персоналът помни поръчката ми.',
      'Бърза доставка, чудесна опаковка, етиопското кафе е отлично.',
      'Новият сезонен бленд е страхотен, баристите са любезни както винаги.',
      'Отлично обслужване, парите ми бяха върнати за минути.',
      'С приложението поръчвам предварително много лесно, благодаря!',
      'Уютно място, хубава музика и чудесни торти.',
      'Винаги прясно кафе и полезни съвети за приготвяне.',
    ],
  },
  ru: {
    negative: [
      'В субботу утром огромная очередь, а касса работала одна.',
      'Доставка опоздала на два дня, и кофе был уже несвежий.',
      'Кофе был едва тёплый, а бариста было всё равно.',
      'Цены опять выросли, а порции стали меньше.',
      'Приложение постоянно выкидывает, и я потерял свои штампы.',
      'С меня списали деньги дважды за один заказ, возврата до сих пор нет.',
      'Овсяного молока не было уже третий раз за неделю.',
      'Грубый персонал в магазине на Витоше, больше не приду.',
    ],
    neutral: [
      'Кофе нормальный, ничего особенного.',
      'Обычно заказываю онлайн, в магазин захожу редко.',
      'Доставка заняла обычные три дня.',
      'Зависит от того, кто работает в смену.',
      'Хожу в основном ради баллов.',
      'В целом неплохо, но дороговато на каждый день.',
    ],
    positive: [
      'Лучший эспрессо в городе, персонал помнит мой заказ.',
      'Быстрая доставка, красивая упаковка, эфиопский кофе отличный.',
      'Новый сезонный бленд просто прекрасный, бариста как всегда приветливые.',
      'Отличный сервис, деньги вернули за несколько минут.',
      'Через приложение очень удобно заказывать заранее, спасибо!',
      'Уютное место, хорошая музыка и замечательные десерты.',
      'Всегда свежие зёрна и полезные советы по заварке.',
    ],
  },
  ro: {
    negative: [
      'Coada de sâmbătă dimineața a fost foarte lungă și era deschisă o singură casă.',
      'Livrarea a întârziat două zile și cafeaua nu mai era proaspătă.',
      'Cafeaua a fost călduță, iar baristei nu i-a păsat deloc.',
      'Prețurile au crescut din nou, iar porțiile s-au micșorat.',
      'Aplicația mă deconectează mereu și mi-am pierdut ștampilele.',
      'Am fost taxat de două ori pentru o comandă și încă nu am primit banii înapoi.',
      'Nu a fost lapte de ovăz pentru a treia oară săptămâna asta.',
      'Personal nepoliticos în magazinul de pe Vitosha, nu mai revin curând.',
    ],
    neutral: [
      'Cafeaua e ok, nimic special.',
      'De obicei comand online, rar vin în magazin.',
      'Livrarea a durat obișnuitele trei zile.',
      'Depinde cine este de serviciu.',
      'Vin mai ales pentru puncte.',
      'În general bine, puțin cam scump pentru fiecare zi.',
    ],
    positive: [
      'Cel mai bun espresso din oraș, iar personalul îmi știe comanda.',
      'Livrare rapidă, ambalaj frumos, cafeaua etiopiană este excelentă.',
      'Îmi place noul amestec de sezon, baristele sunt amabile ca întotdeauna.',
      'Servicii excelente, banii mi-au fost returnați în câteva minute.',
      'Aplicația face comanda în avans foarte ușoară, mulțumesc!',
      'Loc primitor, muzică bună și prăjituri minunate.',
      'Mereu boabe proaspete și sfaturi utile pentru preparare.',
    ],
  },
  pl: {
    negative: [
      'W sobotę rano kolejka była ogromna, a działała tylko jedna kasa.',
      'Dostawa spóźniła się o dwa dni i kawa nie była już świeża.',
      'Kawa była letnia, a barista w ogóle się tym nie przejął.',
      'Ceny znowu wzrosły, a porcje są coraz mniejsze.',
      'Aplikacja ciągle mnie wylogowuje i straciłem pieczątki.',
      'Obciążono mnie dwa razy za jedno zamówienie i nadal nie mam zwrotu.',
      'Już trzeci raz w tym tygodniu nie było mleka owsianego.',
      'Niemiła obsługa w sklepie na Witoszy, szybko nie wrócę.',
    ],
    neutral: [
      'Kawa w porządku, nic szczególnego.',
      'Zwykle zamawiam online, do sklepu zaglądam rzadko.',
      'Dostawa trwała standardowe trzy dni.',
      'Zależy, kto jest na zmianie.',
      'Przychodzę głównie dla punktów.',
      'Ogólnie dobrze, trochę drogo na co dzień.',
    ],
    positive: [
      'Najlepsze espresso w mieście, a obsługa pamięta moje zamówienie.',
      'Szybka dostawa, piękne opakowanie, etiopska kawa jest doskonała.',
      'Uwielbiam nową sezonową mieszankę, bariści jak zawsze mili.',
      'Świetna obsługa, zwrot pieniędzy załatwiony w kilka minut.',
      'Aplikacja bardzo ułatwia zamawianie z wyprzedzeniem, dziękuję!',
      'Przytulne miejsce, dobra muzyka i wspaniałe ciasta.',
      'Zawsze świeże ziarna i pomocne rady dotyczące parzenia.',
    ],
  },
};

/** The tone a comment fits, from the band of the score it explains. */
export function toneOf(band: string | null): Tone {
  if (band === 'detractor' || band === 'dissatisfied' || band === 'high_effort') return 'negative';
  if (band === 'promoter' || band === 'satisfied' || band === 'low_effort') return 'positive';
  return 'neutral';
}
