"""Stop words: the little words of a language that say nothing about what a team talked about
("the", "and", "was"...), left out when answers are compared (bot/wording.py).

Source: the Snowball project's stop word lists (https://snowballstem.org/algorithms/, BSD
licence: English, French, German, Spanish, Dutch, Italian, Portuguese), shortened to the common
forms, plus a few words chat answers are full of that the lists lack (contractions typed without
their apostrophe, "really", "yeah"...). Lower case; compared casefolded.

Plain Python, nothing from discord.
"""

from __future__ import annotations

_ENGLISH = """
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she
her hers herself it its itself they them their theirs themselves what which who whom this that
these those am is are was were be been being have has had having do does did doing would should
could ought i'm you're he's she's it's we're they're i've you've we've they've i'd you'd he'd
she'd we'd they'd i'll you'll he'll she'll we'll they'll isn't aren't wasn't weren't hasn't
haven't hadn't doesn't don't didn't won't wouldn't shan't shouldn't can't cannot couldn't
mustn't let's that's who's what's here's there's when's where's why's how's a an the and but if
or because as until while of at by for with about against between into through during before
after above below to from up down in out on off over under again further then once here there
when where why how all any both each few more most other some such no nor not only own same so
than too very s t can will just don should now
im ive id ill youre dont doesnt didnt isnt arent wasnt cant couldnt wouldnt shouldnt wont thats
whats theres lets also really get got getting much many lot lots even still yes yeah yep maybe
well us one quite bit actually think thing things like kind sort something anything etc
"""

_FRENCH = """
au aux avec ce ces dans de des du elle en et eux il ils je la le les leur lui ma mais me même
mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton
tu un une vos votre vous c d j l à m n s t y été étée étées étés étant suis es est sommes êtes
sont serai sera serons serez seront serais serait seraient étais était étions étiez étaient fut
furent sois soit soyons soyez soient ayant eu eue eues eus ai as avons avez ont aurai auras aura
aurons aurez auront aurais aurait aurions auriez auraient avais avait avions aviez avaient aie
aies ait ayons ayez aient
elles ça cela ceci cet cette ceux celle celui ici là leurs quel quels quelle quelles sans soi
aussi plus moins très bien tout tous toute toutes comme quand où si car donc alors faire fait
oui non peu trop encore déjà vraiment juste chose choses être avoir puis après avant entre
"""

_GERMAN = """
aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes
anders auch auf aus bei bin bis bist da damit dann der den des dem die das dass daß derselbe
dieselbe dasselbe dazu dein deine deinem deinen deiner deines denn derer dessen dich dir du dies
diese diesem diesen dieser dieses doch dort durch ein eine einem einen einer eines einig einige
einigem einigen einiger einiges einmal er ihn ihm es etwas euer eure eurem euren eurer eures für
gegen gewesen hab habe haben hat hatte hatten hier hin hinter ich mich mir ihr ihre ihrem ihren
ihrer ihres euch im in indem ins ist jede jedem jeden jeder jedes jene jenem jenen jener jenes
jetzt kann kein keine keinem keinen keiner keines können könnte machen man manche manchem
manchen mancher manches mein meine meinem meinen meiner meines mit muss musste nach nicht nichts
noch nun nur ob oder ohne sehr sein seine seinem seinen seiner seines selbst sich sie ihnen sind
so solche solchem solchen solcher solches soll sollte sondern sonst über um und uns unsere
unserem unseren unser unseres unter viel vom von vor während war waren warst was weg weil weiter
welche welchem welchen welcher welches wenn werde werden wie wieder will wir wird wirst wo wollen
wollte würde würden zu zum zur zwar zwischen
ja nein mal eben halt schon gibt immer ganz mehr
"""

_SPANISH = """
de la que el en y a los del se las por un para con no una su al lo como más pero sus le ya o
este sí porque esta entre cuando muy sin sobre también me hasta hay donde quien desde todo nos
durante todos uno les ni contra otros ese eso ante ellos e esto mí antes algunos qué unos yo otro
otras otra él tanto esa estos mucho quienes nada muchos cual poco ella estar estas algunas algo
nosotros mi mis tú te ti tu tus ellas nosotras vosotros vosotras os mío mía míos mías tuyo tuya
tuyos tuyas suyo suya suyos suyas nuestro nuestra nuestros nuestras vuestro vuestra vuestros
vuestras esos esas estoy estás está estamos estáis están esté estaba estaban estuve estuvo he has
ha hemos habéis han haya había habían hube hubo soy eres es somos sois son sea sean era eras
éramos eran fui fue fuimos fueron ser sido siendo tengo tienes tiene tenemos tenéis tienen tenga
tenía tenían tuve tuvo tener hacer hace hago
si solo sólo así bien vez cosa cosas
"""

_DUTCH = """
de en van ik te dat die in een hij het niet zijn is was op aan met als voor had er maar om hem
dan zou of wat mijn men dit zo door over ze zich bij ook tot je mij uit der daar haar naar heb
hoe heeft hebben deze u want nog zal me zij nu ge geen omdat iets worden toch al waren veel meer
doen toen moet ben zonder kan hun dus alles onder ja eens hier wie werd altijd doch wordt wezen
kunnen ons zelf tegen na reeds wil kon niets uw iemand geweest andere
wel we jij jullie mijn echt gewoon heel
"""

_ITALIAN = """
ad al allo ai agli all agl alla alle con col coi da dal dallo dai dagli dall dagl dalla dalle di
del dello dei degli dell degl della delle in nel nello nei negli nell negl nella nelle su sul
sullo sui sugli sull sugl sulla sulle per tra contro io tu lui lei noi voi loro mio mia miei mie
tuo tua tuoi tue suo sua suoi sue nostro nostra nostri nostre vostro vostra vostri vostre mi ti
ci vi lo la li le gli ne il un uno una ma ed se perché anche come dov dove che chi cui non più
quale quanto quanti quanta quante quello quelli quella quelle questo questi questa queste si
tutto tutti a c e i l o ho hai ha abbiamo avete hanno abbia avevo aveva avevamo avevano ebbi ebbe
sono sei è siamo siete sia siano ero eri era eravamo erano fui fu fummo furono sarà sarebbe fa
faccio fanno fare sto stai sta stiamo stanno stare essere avere
molto poco così già ancora sempre solo cosa cose
"""

_PORTUGUESE = """
de a o que e do da em um para com não uma os no se na por mais as dos como mas ao ele das à seu
sua ou quando muito nos já eu também só pelo pela até isso ela entre depois sem mesmo aos seus
quem nas me esse eles você essa num nem suas meu às minha numa pelos elas qual nós lhe deles
essas esses pelas este dele tu te vocês vos lhes meus minhas teu tua teus tuas nosso nossa
nossos nossas dela delas esta estes estas aquele aquela aqueles aquelas isto aquilo estou está
estamos estão estive esteve estivemos estiveram estava estavam há havia houve sou é somos são
era eram fui foi fomos foram seja sejam ser sido tenho tem temos têm tinha tinham tive teve ter
fazer faz
sim bem coisa coisas assim ainda sempre
"""

#: language code (a Discord locale's first part) -> its stop words, casefolded
STOP_WORDS: dict[str, frozenset[str]] = {
    code: frozenset(word.casefold() for word in text.split())
    for code, text in (
        ("en", _ENGLISH),
        ("fr", _FRENCH),
        ("de", _GERMAN),
        ("es", _SPANISH),
        ("nl", _DUTCH),
        ("it", _ITALIAN),
        ("pt", _PORTUGUESE),
    )
}

#: the start of a word elided before an apostrophe ("l'équipe", "qu'il", "dell'ufficio"): the
#: word is what follows it
_ELIDED = "l d j m n s t c qu jusqu lorsqu puisqu quoiqu all dall dell nell sull un quest quell"
ELISIONS = frozenset(_ELIDED.split())
