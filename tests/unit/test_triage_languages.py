"""Red-flag triage in the other languages users write in: Spanish, Portuguese, French, German,
Italian, romanised Hindi/Urdu (Hinglish), Tagalog, Dutch and Polish. Each language has red flags
at all three levels, and ordinary, gym-sore, negated or long-past messages that must not fire.

The messages were written before the rules (safety.yaml `languages:` blocks), in varied voices,
accented and unaccented, so they test the rules rather than repeat them."""

from __future__ import annotations

import pytest

from bot.core.safety import Outcome, Triage
from bot.core.types import Kind
from tests.conftest import Chat

E, U, S = "emergency", "urgent", "soon"

RED_FLAGS: dict[str, list[tuple[str, str]]] = {
    "es": [
        ("me duele la espalda y desde esta mañana no puedo orinar aunque tengo ganas", E),
        ("tengo dolor lumbar y se me duerme la zona entre las piernas, como anestesiada", E),
        ("desde anoche se me escapa el pis sin darme cuenta y la espalda me mata", E),
        ("dolor de espalda y se me han dormido las dos piernas", E),
        ("mi marido tiene dolor de espalda y le aprieta el pecho, le cuesta respirar", E),
        ("tuve un accidente de coche ayer y ahora tengo un dolor fuerte en la espalda", E),
        ("llevo tres dias con dolor de espalda y fiebre de 38,5, con escalofrios", U),
        ("tengo la pierna izquierda débil y el pie se me arrastra al caminar", U),
        ("tengo osteoporosis y me resbalé en la cocina, me caí de culo y me duele la espalda", U),
        ("me duele muchísimo la espalda cuando toso o estornudo", U),
        ("el dolor de espalda por la noche es constante, no me deja dormir", U),
        ("me ha salido un bulto en la parte baja de la espalda y duele", U),
        ("hace años tuve un cáncer de próstata y ahora me duele la espalda", U),
        ("he perdido casi 8 kilos sin hacer dieta y me duele la espalda", S),
        ("llevo seis semanas con dolor de espalda y no mejora nada con los ejercicios", S),
    ],
    "pt": [
        ("estou com dor nas costas e não consigo segurar o xixi desde ontem", E),
        ("dor lombar forte e a região do bumbum está dormente", E),
        ("meu pai está com dor nas costas e as duas pernas estão fracas, mal consegue andar", E),
        ("dor nas costas e uma pressão no peito, falta de ar", E),
        ("sofri um acidente de moto hoje e estou com muita dor nas costas", E),
        ("dor nas costas com febre e calafrios desde ontem a noite", U),
        ("minha perna direita ficou dormente e fraca, arrasto o pé quando ando", U),
        ("ja tive cancer de prostata e agora estou com dor nas costas", U),
        ("quando espirro ou tusso a dor nas costas fica insuportável", U),
        ("a dor nas costas me acorda todas as noites e nenhuma posição alivia", U),
        ("perdi 6 quilos sem motivo e minhas costas doem", S),
        ("tenho 62 anos e essa dor nas costas é nova, começou há três semanas e não melhora", S),
    ],
    "fr": [
        ("j'ai mal au dos et depuis ce matin je n'arrive plus à uriner", E),
        ("mal au dos et je ne sens plus rien entre les jambes, c'est engourdi", E),
        ("depuis hier j'ai des fuites urinaires et le bas du dos me fait très mal", E),
        ("mal au dos et mes deux jambes sont engourdies", E),
        ("j'ai une douleur dans la poitrine et dans le dos, j'ai du mal a respirer", E),
        ("je suis tombé d'une échelle de trois mètres, j'ai très mal au dos", E),
        ("mal de dos avec de la fievre et des frissons depuis deux jours", U),
        ("ma jambe gauche est faible et mon pied traîne quand je marche", U),
        ("j'ai eu un cancer du sein il y a quelques années et maintenant j'ai mal au dos", U),
        ("la nuit la douleur dans le dos est insupportable, elle me réveille", U),
        ("j'ai une bosse qui grossit sur la colonne", U),
        ("quand j'éternue j'ai une douleur horrible dans le dos", U),
        ("j'ai perdu 7 kilos sans faire de régime et j'ai mal au dos", S),
        ("ça fait un mois que j'ai mal au dos et ça ne s'améliore pas malgré les étirements", S),
    ],
    "de": [
        ("Ich habe Rückenschmerzen und kann seit heute Morgen kein Wasser lassen", E),
        ("Rückenschmerzen und im Intimbereich ist alles taub", E),
        ("seit gestern verliere ich Urin, ohne es zu merken, und der Rücken tut weh", E),
        ("mein Ruecken tut weh und beide Beine sind taub und kribbeln", E),
        ("Rückenschmerzen und Schmerzen in der Brust, ich bekomme kaum Luft", E),
        ("bin mit dem Motorrad gestürzt und habe starke Schmerzen im Rücken", E),
        ("Rückenschmerzen mit Fieber und Schüttelfrost seit gestern", U),
        ("mein rechtes Bein ist seit zwei Tagen schwach und der Fuß schleift beim Gehen", U),
        ("ich hatte vor drei Jahren Brustkrebs und habe jetzt neue Rückenschmerzen", U),
        ("beim Husten und Niesen schießt der Schmerz in den Rücken", U),
        ("nachts sind die Rückenschmerzen unerträglich, ich kann nicht schlafen", U),
        (
            "ich habe Osteoporose und bin gestern auf dem Eis ausgerutscht, jetzt tut der Rücken weh",
            U,
        ),
        ("ich habe ungewollt 8 Kilo abgenommen und habe Rückenschmerzen", S),
        ("seit sechs Wochen Rückenschmerzen und es wird trotz Übungen nicht besser", S),
    ],
    "it": [
        ("ho mal di schiena e da stamattina non riesco a fare pipì", E),
        ("mal di schiena e sento la zona genitale intorpidita", E),
        ("mi scappa la pipi senza accorgermene e ho un forte mal di schiena", E),
        ("mal di schiena e tutte e due le gambe sono deboli e formicolano", E),
        ("ho mal di schiena e un dolore al petto, faccio fatica a respirare", E),
        ("sono caduto dal tetto e ho un dolore fortissimo alla schiena", E),
        ("mal di schiena con febbre alta e brividi da ieri", U),
        ("ho la gamba sinistra intorpidita e debole da tre giorni", U),
        ("ho avuto un tumore al seno e ora ho mal di schiena", U),
        ("quando tossisco o starnutisco il dolore alla schiena è fortissimo", U),
        ("il dolore alla schiena di notte non mi fa dormire, è continuo", U),
        ("ho perso 6 chili senza dieta e ho mal di schiena", S),
        ("ho mal di schiena da due mesi e non migliora nonostante lo stretching", S),
    ],
    "hi": [
        ("kamar mein dard hai aur kal se peshab nahi ho raha", E),
        ("kamar dard ke saath peshab par control nahi raha", E),
        ("kamar dard hai aur dono pairon mein jhunjhuni aur kamzori hai", E),
        ("peeth mein dard aur seene mein dard, saans lene mein takleef ho rahi hai", E),
        ("bike accident hua hai, kamar mein bahut dard hai", E),
        ("kamar dard aur tez bukhar hai, kaanp raha hoon", U),
        ("mera left pair sunn ho gaya hai aur kamar dard hai", U),
        ("mujhe pehle cancer tha, ab kamar mein dard ho raha hai", U),
        ("khansi ya chheenk aane par kamar mein bahut tez dard hota hai", U),
        ("raat ko kamar dard ki wajah se neend nahi aati", U),
        ("bina diet kiye mera 7 kilo wajan kam ho gaya aur kamar dard hai", S),
        ("teen hafte se kamar dard hai, exercise se bhi aaram nahi mil raha", S),
    ],
    "tl": [
        ("masakit ang likod ko at hindi ako makaihi simula kahapon", E),
        ("masakit ang likod ko at namamanhid ang pwet ko", E),
        ("sumasakit ang likod at namamanhid ang dalawang binti ko", E),
        ("masakit ang likod at dibdib ko, hirap akong huminga", E),
        ("nahulog ako mula sa bubong, sobrang sakit ng likod ko", E),
        ("may lagnat ako at nanginginig, masakit pa ang likod ko", U),
        ("nanghihina ang kanang binti ko at masakit ang likod", U),
        ("nagka-cancer ako dati at ngayon masakit ang likod ko", U),
        ("kapag umuubo o bumabahing ako, sobrang sakit ng likod ko", U),
        ("tuwing gabi nagigising ako sa sakit ng likod", U),
        ("pumayat ako ng 6 kilo kahit hindi nagda-diet, at masakit ang likod ko", S),
        ("tatlong linggo na ang sakit ng likod ko at hindi gumagaling", S),
    ],
    "nl": [
        ("ik heb rugpijn en ik kan sinds vanochtend niet meer plassen", E),
        ("rugpijn en beide benen voelen doof en slap", E),
        ("rugpijn en een drukkend gevoel op de borst, ik ben kortademig", E),
        ("rugpijn met koorts en rillingen", U),
        ("mijn linkerbeen is zwak en mijn voet sleept", U),
        ("ik heb vroeger borstkanker gehad en nu rugpijn", U),
        ("ik ben zonder te lijnen 6 kilo afgevallen en heb rugpijn", S),
        ("al acht weken rugpijn en het wordt niet beter", S),
    ],
    "pl": [
        ("bolą mnie plecy i od rana nie mogę oddać moczu", E),
        ("ból pleców i obie nogi mi drętwieją", E),
        ("ból pleców i ból w klatce piersiowej, trudno mi oddychać", E),
        ("ból pleców i gorączka, mam dreszcze", U),
        ("prawa noga jest słaba i stopa mi opada", U),
        ("miałam raka piersi, a teraz bolą mnie plecy", U),
        ("schudłem 7 kilo bez diety i bolą mnie plecy", S),
        ("od sześciu tygodni bolą mnie plecy i nie ma poprawy", S),
    ],
}

ORDINARY: dict[str, list[str]] = {
    "es": [
        "me duele un poco la espalda después del gimnasio, ¿qué estiramientos me recomiendas?",
        "tengo dolor de espalda pero sin fiebre y sin hormigueo en las piernas",
        "no tengo problemas para orinar, solo me duele la zona lumbar al agacharme",
        "hace dos años tuve una caída pero ya estoy bien, ahora quiero fortalecer la espalda",
        "tengo agujetas en las piernas por las sentadillas de ayer",
        "¿qué ejercicios son buenos para la espalda si estoy sentado todo el día?",
        "no siento hormigueo ni debilidad en las piernas, es solo la espalda baja cargada",
    ],
    "pt": [
        "minhas costas estão doloridas depois do treino de ontem, posso treinar hoje?",
        "tenho dor nas costas mas não tenho febre nem formigamento",
        "não tenho dormência nas pernas, só uma dor leve nas costas",
        "quais exercícios ajudam com dor lombar de ficar sentado?",
        "ano passado caí da bicicleta mas já me recuperei totalmente",
        "minhas pernas estão cansadas depois da corrida",
    ],
    "fr": [
        "j'ai des courbatures dans le dos après la muscu, c'est normal ?",
        "mal au dos mais pas de fièvre, pas de fourmillements",
        "je n'ai aucun problème pour uriner, juste une douleur en bas du dos",
        "quels exercices pour soulager le dos quand on travaille assis ?",
        "il y a trois ans je suis tombé de vélo, c'est guéri depuis",
        "mes jambes sont lourdes après le squat",
    ],
    "de": [
        "Muskelkater im Rücken nach dem Training, kann ich trotzdem laufen?",
        "Rückenschmerzen, aber kein Fieber und keine Taubheit in den Beinen",
        "ich habe keine Probleme beim Wasserlassen, nur ziehende Schmerzen im unteren Rücken",
        "welche Übungen helfen bei Rückenschmerzen vom Sitzen?",
        "vor zwei Jahren bin ich vom Fahrrad gefallen, ist aber längst verheilt",
        "meine Beine sind nach dem Beintraining schwer",
    ],
    "it": [
        "ho un po' di mal di schiena dopo la palestra, posso allenarmi?",
        "mal di schiena ma niente febbre e nessun formicolio",
        "non ho problemi a fare pipì, solo dolore lombare",
        "quali esercizi per la schiena se lavoro seduto tutto il giorno?",
        "due anni fa sono caduto dalla bici ma sono guarito del tutto",
        "ho le gambe stanche dopo lo squat",
    ],
    "hi": [
        "gym ke baad kamar mein thoda dard hai, kya stretching karun?",
        "kamar dard hai lekin bukhar nahi hai",
        "pair mein koi sunnpan nahi hai, bas kamar mein halka dard",
        "office mein baith ke kamar dard hota hai, koi exercise batao",
        "do saal pehle gir gaya tha lekin ab bilkul theek hoon",
        "squats ke baad pair thak gaye hain",
    ],
    "tl": [
        "medyo masakit ang likod ko pagkatapos mag-gym, okay lang ba mag-exercise?",
        "masakit ang likod ko pero wala akong lagnat",
        "walang pamamanhid sa binti ko, masakit lang ang likod",
        "anong magandang stretching para sa sakit ng likod sa trabaho?",
        "nahulog ako sa bisikleta noong isang taon pero magaling na",
        "pagod ang binti ko pagkatapos ng squats",
    ],
    "nl": [
        "spierpijn in mijn rug na de sportschool, mag ik morgen weer trainen?",
        "rugpijn maar geen koorts en geen tintelingen",
        "welke oefeningen helpen tegen rugpijn van zitten?",
    ],
    "pl": [
        "zakwasy w plecach po siłowni, mogę jutro ćwiczyć?",
        "bolą mnie plecy, ale nie mam gorączki ani drętwienia",
        "jakie ćwiczenia na ból pleców od siedzenia?",
    ],
}


@pytest.fixture(scope="module")
def triage(kb) -> Triage:
    from bot.app import load_triage_model

    return Triage.build(kb.safety, load_triage_model(kb))


@pytest.mark.parametrize(
    ("text", "level"), [(t, lv) for cases in RED_FLAGS.values() for t, lv in cases]
)
def test_a_red_flag_in_another_language_is_caught_at_its_level(
    triage: Triage, text: str, level: str
) -> None:
    a = triage.assess(text)
    assert a.outcome is Outcome.FLAG, (a, [f.id for f in triage.check(text)])
    assert a.level == level, [f.id for f in a.flags]


@pytest.mark.parametrize("text", [t for cases in ORDINARY.values() for t in cases])
def test_ordinary_or_negated_pain_in_another_language_raises_no_flag(
    triage: Triage, text: str
) -> None:
    assert [f.id for f in triage.check(text)] == []
    assert triage.assess(text).outcome is not Outcome.FLAG


def test_every_required_language_has_all_three_levels() -> None:
    for lang in ("es", "pt", "fr", "de", "it", "hi", "tl"):
        assert {lv for _, lv in RED_FLAGS[lang]} == {E, U, S}, lang
        assert len(RED_FLAGS[lang]) >= 8 and len(ORDINARY[lang]) >= 6, lang


async def test_a_german_emergency_gets_the_emergency_reply_in_the_dialogue(chat: Chat) -> None:
    replies = await chat.say("Rückenschmerzen und seit heute Nacht kann ich die Blase nicht halten")
    assert replies[0].kind is Kind.RED_FLAG and replies[0].urgency == E, chat.text[:300]


async def test_a_spanish_fever_gets_the_same_day_reply_in_the_dialogue(chat: Chat) -> None:
    replies = await chat.say("me duele la espalda y tengo fiebre y escalofríos desde ayer")
    assert replies[0].kind is Kind.RED_FLAG and replies[0].urgency == U, chat.text[:300]


async def test_negated_symptoms_in_portuguese_get_no_red_flag_in_the_dialogue(chat: Chat) -> None:
    replies = await chat.say("dor nas costas, mas não tenho febre e não sinto dormência")
    assert replies[0].kind is not Kind.RED_FLAG, chat.text[:300]
