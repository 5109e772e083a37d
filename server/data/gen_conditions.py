#!/usr/bin/env python3
"""Generate conditions.csv: common chronic / follow-up (复诊) conditions.

Columns: icd10,name_zh,name_en,department,initials

* icd10      ICD-10 code (WHO / GB/T 14396 style), unique across the file.
* name_zh    usual Simplified Chinese clinical name (no commas).
* name_en    English name (no commas).
* department one of DEPARTMENTS below.
* initials   lower-case pinyin initials of name_zh (one letter per Chinese
             character; Latin letters and digits kept, lower-cased;
             punctuation dropped). Computed with pypinyin; heteronyms are
             pinned to their medical reading via PHRASE_READINGS below.

Usage:  pip install pypinyin && python3 gen_conditions.py
Output is deterministic: rows sorted by department code (alphabetically),
then icd10.
"""

import csv
import os
import re

from pypinyin import Style, lazy_pinyin, load_phrases_dict, load_single_dict

DEPARTMENTS = [
    "cardiology", "endocrinology", "respiratory", "gastroenterology",
    "neurology", "nephrology", "rheumatology", "hematology", "infectious",
    "dermatology", "psychiatry", "pediatrics", "gynecology", "urology",
    "orthopedics", "ophthalmology", "ent", "stomatology", "oncology", "tcm",
    "general",
]

# Heteronyms: pin the medical reading explicitly (tone-marked pinyin).
SINGLE_READINGS = {
    ord("血"): "xuè",
    ord("盗"): "dào",
    ord("脏"): "zàng",
    ord("椎"): "zhuī",  # 颈椎 jǐng zhuī (pypinyin may give chuí)
}
PHRASE_READINGS = {
    "生长": [["shēng"], ["zhǎng"]],
    "过长": [["guò"], ["cháng"]],
    "重症": [["zhòng"], ["zhèng"]],
    "加重": [["jiā"], ["zhòng"]],
    "体重": [["tǐ"], ["zhòng"]],
    "发作": [["fā"], ["zuò"]],
    "发育": [["fā"], ["yù"]],
    "发性": [["fā"], ["xìng"]],
    "脱发": [["tuō"], ["fà"]],
    "便秘": [["biàn"], ["mì"]],
    "分泌": [["fēn"], ["mì"]],
    "传导": [["chuán"], ["dǎo"]],
    "不调": [["bù"], ["tiáo"]],
    "颤动": [["chàn"], ["dòng"]],
    "震颤": [["zhèn"], ["chàn"]],
    "扁桃": [["biǎn"], ["táo"]],
    "扁平": [["biǎn"], ["píng"]],
    "纤维": [["xiān"], ["wéi"]],
    "恶劣": [["è"], ["liè"]],
    "恶性": [["è"], ["xìng"]],
    "肥胖": [["féi"], ["pàng"]],
    "转移": [["zhuǎn"], ["yí"]],
    "白塞": [["bái"], ["sài"]],
    "阻塞": [["zǔ"], ["sè"]],
    "栓塞": [["shuān"], ["sè"]],
    "角膜": [["jiǎo"], ["mó"]],
    "强迫": [["qiǎng"], ["pò"]],
    "强直": [["qiáng"], ["zhí"]],
    "咽炎": [["yān"], ["yán"]],
    "鼻咽": [["bí"], ["yān"]],
    "膀胱": [["páng"], ["guāng"]],
    "佝偻": [["gōu"], ["lóu"]],
    "行为": [["xíng"], ["wéi"]],
    "心率": [["xīn"], ["lǜ"]],
    "快乐": [["kuài"], ["lè"]],
    "间质": [["jiān"], ["zhì"]],
    "散光": [["sǎn"], ["guāng"]],
    "假丝": [["jiǎ"], ["sī"]],
    "少年": [["shào"], ["nián"]],
}
load_single_dict(SINGLE_READINGS)
load_phrases_dict(PHRASE_READINGS)

# (icd10, name_zh, name_en, department)
CONDITIONS = [
    # ---- cardiology 心血管内科 ----
    ("I10", "原发性高血压", "Essential (primary) hypertension", "cardiology"),
    ("I11.9", "高血压性心脏病", "Hypertensive heart disease without heart failure", "cardiology"),
    ("I20.0", "不稳定型心绞痛", "Unstable angina", "cardiology"),
    ("I20.1", "变异型心绞痛", "Angina pectoris with documented spasm", "cardiology"),
    ("I20.9", "心绞痛", "Angina pectoris", "cardiology"),
    ("I25.1", "冠状动脉粥样硬化性心脏病", "Atherosclerotic heart disease (coronary heart disease)", "cardiology"),
    ("I25.2", "陈旧性心肌梗死", "Old myocardial infarction", "cardiology"),
    ("Z95.5", "冠状动脉支架植入术后", "Presence of coronary angioplasty implant and graft", "cardiology"),
    ("I48.0", "阵发性心房颤动", "Paroxysmal atrial fibrillation", "cardiology"),
    ("I49.1", "房性早搏", "Atrial premature depolarization", "cardiology"),
    ("I49.3", "室性早搏", "Ventricular premature depolarization", "cardiology"),
    ("I47.1", "室上性心动过速", "Supraventricular tachycardia", "cardiology"),
    ("I49.5", "病态窦房结综合征", "Sick sinus syndrome", "cardiology"),
    ("I44.2", "三度房室传导阻滞", "Complete atrioventricular block", "cardiology"),
    ("I50.0", "充血性心力衰竭", "Congestive heart failure", "cardiology"),
    ("I50.1", "左心衰竭", "Left ventricular failure", "cardiology"),
    ("I50.9", "心力衰竭", "Heart failure", "cardiology"),
    ("I42.0", "扩张型心肌病", "Dilated cardiomyopathy", "cardiology"),
    ("I42.1", "梗阻性肥厚型心肌病", "Obstructive hypertrophic cardiomyopathy", "cardiology"),
    ("I51.4", "心肌炎", "Myocarditis", "cardiology"),
    ("I05.0", "风湿性二尖瓣狭窄", "Rheumatic mitral stenosis", "cardiology"),
    ("I34.0", "二尖瓣关闭不全", "Mitral valve insufficiency", "cardiology"),
    ("I35.0", "主动脉瓣狭窄", "Aortic valve stenosis", "cardiology"),
    ("I27.0", "原发性肺动脉高压", "Primary pulmonary hypertension", "cardiology"),
    ("I95.1", "直立性低血压", "Orthostatic hypotension", "cardiology"),

    # ---- endocrinology 内分泌科 ----
    ("E10.9", "1型糖尿病", "Type 1 diabetes mellitus without complications", "endocrinology"),
    ("E11.9", "2型糖尿病", "Type 2 diabetes mellitus without complications", "endocrinology"),
    ("E11.4", "糖尿病周围神经病变", "Type 2 diabetes mellitus with neurological complications (diabetic peripheral neuropathy)", "endocrinology"),
    ("E11.5", "糖尿病足", "Type 2 diabetes mellitus with peripheral circulatory complications (diabetic foot)", "endocrinology"),
    ("R73.0", "糖耐量异常", "Abnormal glucose tolerance (prediabetes)", "endocrinology"),
    ("E16.2", "低血糖症", "Hypoglycaemia", "endocrinology"),
    ("E78.0", "高胆固醇血症", "Pure hypercholesterolaemia", "endocrinology"),
    ("E78.1", "高甘油三酯血症", "Pure hyperglyceridaemia", "endocrinology"),
    ("E78.2", "混合型高脂血症", "Mixed hyperlipidaemia", "endocrinology"),
    ("E78.5", "高脂血症", "Hyperlipidaemia", "endocrinology"),
    ("E79.0", "高尿酸血症", "Asymptomatic hyperuricaemia", "endocrinology"),
    ("E66.9", "肥胖症", "Obesity", "endocrinology"),
    ("E03.9", "甲状腺功能减退症", "Hypothyroidism", "endocrinology"),
    ("E05.0", "毒性弥漫性甲状腺肿", "Thyrotoxicosis with diffuse goitre (Graves disease)", "endocrinology"),
    ("E05.9", "甲状腺功能亢进症", "Thyrotoxicosis (hyperthyroidism)", "endocrinology"),
    ("E06.1", "亚急性甲状腺炎", "Subacute thyroiditis", "endocrinology"),
    ("E06.3", "桥本甲状腺炎", "Autoimmune thyroiditis (Hashimoto thyroiditis)", "endocrinology"),
    ("E04.1", "甲状腺结节", "Nontoxic single thyroid nodule", "endocrinology"),
    ("E04.2", "结节性甲状腺肿", "Nontoxic multinodular goitre", "endocrinology"),
    ("E21.0", "原发性甲状旁腺功能亢进症", "Primary hyperparathyroidism", "endocrinology"),
    ("E20.9", "甲状旁腺功能减退症", "Hypoparathyroidism", "endocrinology"),
    ("E27.1", "原发性肾上腺皮质功能减退症", "Primary adrenocortical insufficiency (Addison disease)", "endocrinology"),
    ("E24.9", "库欣综合征", "Cushing syndrome", "endocrinology"),
    ("E26.0", "原发性醛固酮增多症", "Primary hyperaldosteronism", "endocrinology"),
    ("E22.1", "高催乳素血症", "Hyperprolactinaemia", "endocrinology"),
    ("D35.2", "垂体腺瘤", "Benign neoplasm of pituitary gland (pituitary adenoma)", "endocrinology"),
    ("E23.2", "尿崩症", "Diabetes insipidus", "endocrinology"),
    ("M81.9", "骨质疏松症", "Osteoporosis", "endocrinology"),
    ("E55.9", "维生素D缺乏", "Vitamin D deficiency", "endocrinology"),

    # ---- respiratory 呼吸与危重症医学科 ----
    ("J44.9", "慢性阻塞性肺疾病", "Chronic obstructive pulmonary disease", "respiratory"),
    ("J44.1", "慢性阻塞性肺疾病急性加重", "Chronic obstructive pulmonary disease with acute exacerbation", "respiratory"),
    ("J45.9", "支气管哮喘", "Asthma", "respiratory"),
    ("J42", "慢性支气管炎", "Chronic bronchitis", "respiratory"),
    ("J43.9", "肺气肿", "Emphysema", "respiratory"),
    ("J47", "支气管扩张症", "Bronchiectasis", "respiratory"),
    ("J84.1", "特发性肺纤维化", "Idiopathic pulmonary fibrosis", "respiratory"),
    ("J84.9", "间质性肺疾病", "Interstitial pulmonary disease", "respiratory"),
    ("J96.1", "慢性呼吸衰竭", "Chronic respiratory failure", "respiratory"),
    ("I26.9", "肺栓塞", "Pulmonary embolism without acute cor pulmonale", "respiratory"),
    ("I27.9", "慢性肺源性心脏病", "Chronic pulmonary heart disease", "respiratory"),
    ("G47.3", "阻塞性睡眠呼吸暂停", "Obstructive sleep apnoea", "respiratory"),
    ("R91", "肺结节", "Pulmonary nodule (abnormal findings on diagnostic imaging of lung)", "respiratory"),
    ("D86.0", "肺结节病", "Sarcoidosis of lung", "respiratory"),
    ("R05", "慢性咳嗽", "Chronic cough", "respiratory"),

    # ---- gastroenterology 消化内科 ----
    ("K21.0", "反流性食管炎", "Gastro-oesophageal reflux disease with oesophagitis", "gastroenterology"),
    ("K21.9", "胃食管反流病", "Gastro-oesophageal reflux disease without oesophagitis", "gastroenterology"),
    ("K22.7", "巴雷特食管", "Barrett oesophagus", "gastroenterology"),
    ("K44.9", "食管裂孔疝", "Hiatus hernia", "gastroenterology"),
    ("K29.3", "慢性浅表性胃炎", "Chronic superficial gastritis", "gastroenterology"),
    ("K29.4", "慢性萎缩性胃炎", "Chronic atrophic gastritis", "gastroenterology"),
    ("K29.5", "慢性胃炎", "Chronic gastritis", "gastroenterology"),
    ("K25.9", "胃溃疡", "Gastric ulcer", "gastroenterology"),
    ("K26.9", "十二指肠溃疡", "Duodenal ulcer", "gastroenterology"),
    ("K31.7", "胃息肉", "Polyp of stomach and duodenum", "gastroenterology"),
    ("B98.0", "幽门螺杆菌感染", "Helicobacter pylori infection", "gastroenterology"),
    ("K58.0", "腹泻型肠易激综合征", "Irritable bowel syndrome with diarrhoea", "gastroenterology"),
    ("K58.9", "肠易激综合征", "Irritable bowel syndrome without diarrhoea", "gastroenterology"),
    ("K59.0", "慢性便秘", "Chronic constipation", "gastroenterology"),
    ("K51.9", "溃疡性结肠炎", "Ulcerative colitis", "gastroenterology"),
    ("K50.9", "克罗恩病", "Crohn disease", "gastroenterology"),
    ("K52.9", "慢性结肠炎", "Noninfective colitis", "gastroenterology"),
    ("K63.5", "结肠息肉", "Polyp of colon", "gastroenterology"),
    ("K76.0", "非酒精性脂肪性肝病", "Non-alcoholic fatty liver disease", "gastroenterology"),
    ("K70.3", "酒精性肝硬化", "Alcoholic cirrhosis of liver", "gastroenterology"),
    ("K74.6", "肝硬化", "Cirrhosis of liver", "gastroenterology"),
    ("K75.4", "自身免疫性肝炎", "Autoimmune hepatitis", "gastroenterology"),
    ("K74.3", "原发性胆汁性胆管炎", "Primary biliary cholangitis", "gastroenterology"),
    ("K80.2", "胆囊结石", "Calculus of gallbladder without cholecystitis", "gastroenterology"),
    ("K81.1", "慢性胆囊炎", "Chronic cholecystitis", "gastroenterology"),
    ("K86.1", "慢性胰腺炎", "Chronic pancreatitis", "gastroenterology"),

    # ---- neurology 神经内科 ----
    ("G40.9", "癫痫", "Epilepsy", "neurology"),
    ("G20", "帕金森病", "Parkinson disease", "neurology"),
    ("G25.0", "特发性震颤", "Essential tremor", "neurology"),
    ("G25.8", "不宁腿综合征", "Restless legs syndrome", "neurology"),
    ("G43.0", "无先兆偏头痛", "Migraine without aura", "neurology"),
    ("G43.9", "偏头痛", "Migraine", "neurology"),
    ("G44.0", "丛集性头痛", "Cluster headache", "neurology"),
    ("G44.2", "紧张型头痛", "Tension-type headache", "neurology"),
    ("G47.0", "失眠", "Insomnia", "neurology"),
    ("G47.4", "发作性睡病", "Narcolepsy", "neurology"),
    ("I63.9", "脑梗死", "Cerebral infarction", "neurology"),
    ("I69.3", "脑梗死后遗症", "Sequelae of cerebral infarction", "neurology"),
    ("I69.1", "脑出血后遗症", "Sequelae of intracerebral haemorrhage", "neurology"),
    ("G45.9", "短暂性脑缺血发作", "Transient ischaemic attack", "neurology"),
    ("I67.2", "脑动脉粥样硬化", "Cerebral atherosclerosis", "neurology"),
    ("I65.2", "颈动脉狭窄", "Carotid artery stenosis", "neurology"),
    ("G30.9", "阿尔茨海默病", "Alzheimer disease", "neurology"),
    ("F01.9", "血管性痴呆", "Vascular dementia", "neurology"),
    ("F06.7", "轻度认知障碍", "Mild cognitive disorder", "neurology"),
    ("G35", "多发性硬化", "Multiple sclerosis", "neurology"),
    ("G70.0", "重症肌无力", "Myasthenia gravis", "neurology"),
    ("G12.2", "运动神经元病", "Motor neuron disease", "neurology"),
    ("G51.0", "特发性面神经麻痹", "Bell palsy", "neurology"),
    ("G50.0", "三叉神经痛", "Trigeminal neuralgia", "neurology"),
    ("G62.9", "周围神经病", "Polyneuropathy", "neurology"),
    ("B02.2", "带状疱疹后神经痛", "Postherpetic neuralgia", "neurology"),

    # ---- nephrology 肾内科 ----
    ("N18.3", "慢性肾脏病3期", "Chronic kidney disease stage 3", "nephrology"),
    ("N18.5", "慢性肾脏病5期", "Chronic kidney disease stage 5", "nephrology"),
    ("N18.9", "慢性肾脏病", "Chronic kidney disease", "nephrology"),
    ("E11.2", "糖尿病肾病", "Type 2 diabetes mellitus with renal complications (diabetic nephropathy)", "nephrology"),
    ("I12.9", "高血压肾病", "Hypertensive renal disease without renal failure", "nephrology"),
    ("N03.9", "慢性肾小球肾炎", "Chronic nephritic syndrome (chronic glomerulonephritis)", "nephrology"),
    ("N02.8", "IgA肾病", "IgA nephropathy", "nephrology"),
    ("N04.9", "肾病综合征", "Nephrotic syndrome", "nephrology"),
    ("M32.1", "狼疮性肾炎", "Systemic lupus erythematosus with organ involvement (lupus nephritis)", "nephrology"),
    ("Q61.2", "成人型多囊肾病", "Polycystic kidney autosomal dominant", "nephrology"),
    ("N28.1", "肾囊肿", "Acquired cyst of kidney", "nephrology"),
    ("N39.0", "尿路感染", "Urinary tract infection", "nephrology"),
    ("R80", "蛋白尿", "Isolated proteinuria", "nephrology"),
    ("Z99.2", "维持性透析", "Dependence on renal dialysis", "nephrology"),
    ("Z94.0", "肾移植状态", "Kidney transplant status", "nephrology"),

    # ---- rheumatology 风湿免疫科 ----
    ("M06.9", "类风湿关节炎", "Rheumatoid arthritis", "rheumatology"),
    ("M10.9", "痛风", "Gout", "rheumatology"),
    ("M32.9", "系统性红斑狼疮", "Systemic lupus erythematosus", "rheumatology"),
    ("M45", "强直性脊柱炎", "Ankylosing spondylitis", "rheumatology"),
    ("M35.0", "干燥综合征", "Sjogren syndrome", "rheumatology"),
    ("M34.9", "系统性硬化症", "Systemic sclerosis", "rheumatology"),
    ("M33.1", "皮肌炎", "Dermatomyositis", "rheumatology"),
    ("M33.2", "多发性肌炎", "Polymyositis", "rheumatology"),
    ("L40.5", "银屑病关节炎", "Psoriatic arthritis", "rheumatology"),
    ("M35.3", "风湿性多肌痛", "Polymyalgia rheumatica", "rheumatology"),
    ("M31.3", "肉芽肿性多血管炎", "Granulomatosis with polyangiitis", "rheumatology"),
    ("M31.4", "大动脉炎", "Takayasu arteritis", "rheumatology"),
    ("M35.2", "白塞病", "Behcet disease", "rheumatology"),
    ("M35.1", "混合性结缔组织病", "Mixed connective tissue disease", "rheumatology"),
    ("M79.7", "纤维肌痛综合征", "Fibromyalgia", "rheumatology"),

    # ---- hematology 血液科 ----
    ("D50.9", "缺铁性贫血", "Iron deficiency anaemia", "hematology"),
    ("D51.9", "维生素B12缺乏性贫血", "Vitamin B12 deficiency anaemia", "hematology"),
    ("D52.9", "叶酸缺乏性贫血", "Folate deficiency anaemia", "hematology"),
    ("D56.9", "地中海贫血", "Thalassaemia", "hematology"),
    ("D55.0", "G6PD缺乏症", "Glucose-6-phosphate dehydrogenase deficiency anaemia", "hematology"),
    ("D59.1", "自身免疫性溶血性贫血", "Autoimmune haemolytic anaemia", "hematology"),
    ("D61.9", "再生障碍性贫血", "Aplastic anaemia", "hematology"),
    ("D69.3", "免疫性血小板减少症", "Immune thrombocytopenia (idiopathic thrombocytopenic purpura)", "hematology"),
    ("D69.6", "血小板减少症", "Thrombocytopenia", "hematology"),
    ("D72.8", "白细胞减少症", "Leukopenia", "hematology"),
    ("D66", "血友病A", "Haemophilia A (hereditary factor VIII deficiency)", "hematology"),
    ("D45", "真性红细胞增多症", "Polycythaemia vera", "hematology"),
    ("D47.3", "原发性血小板增多症", "Essential thrombocythaemia", "hematology"),
    ("D46.9", "骨髓增生异常综合征", "Myelodysplastic syndrome", "hematology"),
    ("C92.1", "慢性髓系白血病", "Chronic myeloid leukaemia", "hematology"),
    ("C91.1", "慢性淋巴细胞白血病", "Chronic lymphocytic leukaemia", "hematology"),
    ("C90.0", "多发性骨髓瘤", "Multiple myeloma", "hematology"),
    ("C83.3", "弥漫大B细胞淋巴瘤", "Diffuse large B-cell lymphoma", "hematology"),
    ("C81.9", "霍奇金淋巴瘤", "Hodgkin lymphoma", "hematology"),

    # ---- infectious 感染科 ----
    ("B18.1", "慢性乙型病毒性肝炎", "Chronic viral hepatitis B", "infectious"),
    ("B18.2", "慢性丙型病毒性肝炎", "Chronic viral hepatitis C", "infectious"),
    ("B18.9", "慢性病毒性肝炎", "Chronic viral hepatitis", "infectious"),
    ("Z22.5", "乙型肝炎病毒携带者", "Carrier of viral hepatitis (hepatitis B carrier)", "infectious"),
    ("B24", "艾滋病", "HIV disease", "infectious"),
    ("Z21", "无症状HIV感染", "Asymptomatic HIV infection status", "infectious"),
    ("A16.2", "肺结核", "Pulmonary tuberculosis", "infectious"),
    ("A31.0", "非结核分枝杆菌肺病", "Nontuberculous mycobacterial pulmonary disease", "infectious"),
    ("A53.9", "梅毒", "Syphilis", "infectious"),
    ("R50.9", "不明原因发热", "Fever of unknown origin", "infectious"),

    # ---- dermatology 皮肤科 ----
    ("L20.9", "特应性皮炎", "Atopic dermatitis", "dermatology"),
    ("L30.9", "湿疹", "Eczema", "dermatology"),
    ("L21.9", "脂溢性皮炎", "Seborrhoeic dermatitis", "dermatology"),
    ("L23.9", "过敏性接触性皮炎", "Allergic contact dermatitis", "dermatology"),
    ("L28.0", "慢性单纯性苔藓", "Lichen simplex chronicus (neurodermatitis)", "dermatology"),
    ("L29.9", "瘙痒症", "Pruritus", "dermatology"),
    ("L40.0", "寻常型银屑病", "Psoriasis vulgaris", "dermatology"),
    ("L43.9", "扁平苔藓", "Lichen planus", "dermatology"),
    ("L50.8", "慢性荨麻疹", "Chronic urticaria", "dermatology"),
    ("L70.0", "寻常痤疮", "Acne vulgaris", "dermatology"),
    ("L71.9", "玫瑰痤疮", "Rosacea", "dermatology"),
    ("L80", "白癜风", "Vitiligo", "dermatology"),
    ("L81.1", "黄褐斑", "Melasma (chloasma)", "dermatology"),
    ("L63.9", "斑秃", "Alopecia areata", "dermatology"),
    ("L64.9", "雄激素性脱发", "Androgenic alopecia", "dermatology"),
    ("L10.9", "天疱疮", "Pemphigus", "dermatology"),
    ("L12.0", "大疱性类天疱疮", "Bullous pemphigoid", "dermatology"),
    ("L93.0", "盘状红斑狼疮", "Discoid lupus erythematosus", "dermatology"),
    ("L91.0", "瘢痕疙瘩", "Keloid (hypertrophic scar)", "dermatology"),
    ("B02.9", "带状疱疹", "Herpes zoster", "dermatology"),
    ("B35.1", "甲癣", "Onychomycosis (tinea unguium)", "dermatology"),
    ("B35.3", "足癣", "Tinea pedis", "dermatology"),
    ("B36.0", "花斑癣", "Pityriasis versicolor", "dermatology"),
    ("B86", "疥疮", "Scabies", "dermatology"),
    ("A60.0", "生殖器疱疹", "Genital herpes", "dermatology"),
    ("A63.0", "尖锐湿疣", "Anogenital warts (condyloma acuminatum)", "dermatology"),

    # ---- psychiatry 精神心理科 ----
    ("F32.9", "抑郁发作", "Depressive episode", "psychiatry"),
    ("F33.9", "复发性抑郁障碍", "Recurrent depressive disorder", "psychiatry"),
    ("F34.1", "心境恶劣", "Dysthymia", "psychiatry"),
    ("F53.0", "产后抑郁", "Postnatal depression", "psychiatry"),
    ("F31.9", "双相情感障碍", "Bipolar affective disorder", "psychiatry"),
    ("F41.0", "惊恐障碍", "Panic disorder", "psychiatry"),
    ("F41.1", "广泛性焦虑障碍", "Generalized anxiety disorder", "psychiatry"),
    ("F41.2", "混合性焦虑抑郁障碍", "Mixed anxiety and depressive disorder", "psychiatry"),
    ("F41.9", "焦虑障碍", "Anxiety disorder", "psychiatry"),
    ("F40.1", "社交焦虑障碍", "Social phobia (social anxiety disorder)", "psychiatry"),
    ("F42.9", "强迫障碍", "Obsessive-compulsive disorder", "psychiatry"),
    ("F43.1", "创伤后应激障碍", "Post-traumatic stress disorder", "psychiatry"),
    ("F43.2", "适应障碍", "Adjustment disorder", "psychiatry"),
    ("F45.0", "躯体化障碍", "Somatization disorder", "psychiatry"),
    ("F20.9", "精神分裂症", "Schizophrenia", "psychiatry"),
    ("F22.0", "偏执性精神障碍", "Delusional disorder", "psychiatry"),
    ("F50.0", "神经性厌食", "Anorexia nervosa", "psychiatry"),
    ("F50.2", "神经性贪食", "Bulimia nervosa", "psychiatry"),
    ("F10.2", "酒精依赖", "Alcohol dependence syndrome", "psychiatry"),
    ("F17.2", "烟草依赖", "Tobacco dependence syndrome", "psychiatry"),

    # ---- pediatrics 儿科 ----
    ("F90.0", "注意缺陷多动障碍", "Attention deficit hyperactivity disorder", "pediatrics"),
    ("F84.0", "儿童孤独症", "Childhood autism", "pediatrics"),
    ("F95.9", "抽动障碍", "Tic disorder", "pediatrics"),
    ("F95.2", "抽动秽语综合征", "Tourette syndrome", "pediatrics"),
    ("F98.0", "遗尿症", "Nonorganic enuresis", "pediatrics"),
    ("F80.9", "语言发育迟缓", "Developmental disorder of speech and language", "pediatrics"),
    ("R62.0", "发育迟缓", "Delayed developmental milestones", "pediatrics"),
    ("R62.8", "生长迟缓", "Growth retardation (lack of expected physiological development)", "pediatrics"),
    ("E34.3", "矮小症", "Short stature", "pediatrics"),
    ("E30.1", "性早熟", "Precocious puberty", "pediatrics"),
    ("E30.0", "青春期延迟", "Delayed puberty", "pediatrics"),
    ("E25.0", "先天性肾上腺皮质增生症", "Congenital adrenal hyperplasia", "pediatrics"),
    ("E46", "营养不良", "Protein-energy malnutrition", "pediatrics"),
    ("E55.0", "佝偻病", "Active rickets", "pediatrics"),
    ("J45.0", "儿童过敏性哮喘", "Predominantly allergic asthma (childhood asthma)", "pediatrics"),
    ("D69.0", "过敏性紫癜", "Allergic purpura (Henoch-Schonlein purpura)", "pediatrics"),
    ("M30.3", "川崎病", "Kawasaki disease", "pediatrics"),
    ("M08.0", "幼年特发性关节炎", "Juvenile rheumatoid arthritis", "pediatrics"),
    ("R56.0", "热性惊厥", "Febrile convulsions", "pediatrics"),
    ("G80.9", "脑性瘫痪", "Cerebral palsy", "pediatrics"),
    ("Q21.0", "室间隔缺损", "Ventricular septal defect", "pediatrics"),
    ("Q21.1", "房间隔缺损", "Atrial septal defect", "pediatrics"),
    ("Q90.9", "唐氏综合征", "Down syndrome", "pediatrics"),
    ("P07.3", "早产儿", "Preterm infant", "pediatrics"),
    ("P59.9", "新生儿黄疸", "Neonatal jaundice", "pediatrics"),
    ("L22", "尿布皮炎", "Diaper dermatitis", "pediatrics"),

    # ---- gynecology 妇科 ----
    ("E28.2", "多囊卵巢综合征", "Polycystic ovary syndrome", "gynecology"),
    ("E28.3", "卵巢早衰", "Primary ovarian failure (premature ovarian insufficiency)", "gynecology"),
    ("N95.1", "绝经综合征", "Menopausal syndrome", "gynecology"),
    ("N95.2", "萎缩性阴道炎", "Postmenopausal atrophic vaginitis", "gynecology"),
    ("N80.0", "子宫腺肌病", "Adenomyosis", "gynecology"),
    ("N80.9", "子宫内膜异位症", "Endometriosis", "gynecology"),
    ("D25.9", "子宫肌瘤", "Leiomyoma of uterus", "gynecology"),
    ("N84.0", "子宫内膜息肉", "Endometrial polyp", "gynecology"),
    ("N83.2", "卵巢囊肿", "Ovarian cyst", "gynecology"),
    ("N94.3", "经前期综合征", "Premenstrual tension syndrome", "gynecology"),
    ("N94.6", "痛经", "Dysmenorrhoea", "gynecology"),
    ("N91.2", "闭经", "Amenorrhoea", "gynecology"),
    ("N92.0", "月经过多", "Menorrhagia", "gynecology"),
    ("N92.6", "月经不调", "Irregular menstruation", "gynecology"),
    ("N97.9", "女性不孕症", "Female infertility", "gynecology"),
    ("N96", "复发性流产", "Recurrent pregnancy loss (habitual aborter)", "gynecology"),
    ("B37.3", "外阴阴道假丝酵母菌病", "Vulvovaginal candidiasis", "gynecology"),
    ("A59.0", "滴虫性阴道炎", "Trichomonal vaginitis", "gynecology"),
    ("N76.0", "阴道炎", "Vaginitis", "gynecology"),
    ("N72", "慢性宫颈炎", "Chronic cervicitis", "gynecology"),
    ("N87.9", "宫颈上皮内瘤变", "Cervical intraepithelial neoplasia (dysplasia of cervix)", "gynecology"),
    ("N73.9", "盆腔炎性疾病", "Pelvic inflammatory disease", "gynecology"),
    ("N81.4", "子宫脱垂", "Uterovaginal prolapse", "gynecology"),
    ("N60.1", "乳腺增生", "Diffuse cystic mastopathy (breast hyperplasia)", "gynecology"),

    # ---- urology 泌尿外科 ----
    ("N40", "良性前列腺增生", "Benign prostatic hyperplasia", "urology"),
    ("N41.1", "慢性前列腺炎", "Chronic prostatitis", "urology"),
    ("N20.0", "肾结石", "Kidney stone", "urology"),
    ("N20.1", "输尿管结石", "Ureteral stone", "urology"),
    ("N21.0", "膀胱结石", "Bladder stone", "urology"),
    ("N13.3", "肾积水", "Hydronephrosis", "urology"),
    ("N30.1", "间质性膀胱炎", "Interstitial cystitis", "urology"),
    ("N32.8", "膀胱过度活动症", "Overactive bladder", "urology"),
    ("N39.3", "压力性尿失禁", "Stress urinary incontinence", "urology"),
    ("N35.9", "尿道狭窄", "Urethral stricture", "urology"),
    ("N48.4", "勃起功能障碍", "Erectile dysfunction (organic impotence)", "urology"),
    ("F52.4", "早泄", "Premature ejaculation", "urology"),
    ("N46", "男性不育症", "Male infertility", "urology"),
    ("N45.9", "附睾炎", "Epididymitis", "urology"),
    ("N43.3", "睾丸鞘膜积液", "Hydrocele", "urology"),
    ("I86.1", "精索静脉曲张", "Varicocele", "urology"),
    ("N47", "包皮过长", "Redundant prepuce and phimosis", "urology"),

    # ---- orthopedics 骨科 ----
    ("M81.0", "绝经后骨质疏松症", "Postmenopausal osteoporosis", "orthopedics"),
    ("M17.9", "膝骨关节炎", "Knee osteoarthritis (gonarthrosis)", "orthopedics"),
    ("M16.9", "髋骨关节炎", "Hip osteoarthritis (coxarthrosis)", "orthopedics"),
    ("M47.8", "颈椎病", "Cervical spondylosis", "orthopedics"),
    ("M50.2", "颈椎间盘突出症", "Cervical disc displacement", "orthopedics"),
    ("M51.2", "腰椎间盘突出症", "Lumbar disc herniation", "orthopedics"),
    ("M48.0", "腰椎管狭窄症", "Spinal stenosis", "orthopedics"),
    ("M43.1", "腰椎滑脱症", "Spondylolisthesis", "orthopedics"),
    ("M54.5", "腰痛", "Low back pain", "orthopedics"),
    ("M41.1", "青少年特发性脊柱侧凸", "Adolescent idiopathic scoliosis", "orthopedics"),
    ("M75.0", "肩周炎", "Adhesive capsulitis of shoulder (frozen shoulder)", "orthopedics"),
    ("M77.1", "肱骨外上髁炎", "Lateral epicondylitis (tennis elbow)", "orthopedics"),
    ("M65.3", "狭窄性腱鞘炎", "Trigger finger", "orthopedics"),
    ("G56.0", "腕管综合征", "Carpal tunnel syndrome", "orthopedics"),
    ("M76.6", "跟腱炎", "Achilles tendinitis", "orthopedics"),
    ("M72.2", "足底筋膜炎", "Plantar fasciitis", "orthopedics"),
    ("M87.0", "特发性股骨头坏死", "Idiopathic osteonecrosis of femoral head", "orthopedics"),
    ("M23.2", "陈旧性半月板损伤", "Derangement of meniscus due to old tear", "orthopedics"),
    ("M22.4", "髌骨软化症", "Chondromalacia patellae", "orthopedics"),

    # ---- ophthalmology 眼科 ----
    ("H40.1", "原发性开角型青光眼", "Primary open-angle glaucoma", "ophthalmology"),
    ("H40.2", "原发性闭角型青光眼", "Primary angle-closure glaucoma", "ophthalmology"),
    ("H04.1", "干眼症", "Dry eye syndrome", "ophthalmology"),
    ("H25.9", "年龄相关性白内障", "Age-related cataract", "ophthalmology"),
    ("H35.3", "年龄相关性黄斑变性", "Age-related macular degeneration", "ophthalmology"),
    ("E11.3", "糖尿病视网膜病变", "Type 2 diabetes mellitus with ophthalmic complications (diabetic retinopathy)", "ophthalmology"),
    ("H52.1", "近视", "Myopia", "ophthalmology"),
    ("H52.2", "散光", "Astigmatism", "ophthalmology"),
    ("H53.0", "弱视", "Amblyopia", "ophthalmology"),
    ("H50.9", "斜视", "Strabismus", "ophthalmology"),
    ("H10.1", "过敏性结膜炎", "Allergic conjunctivitis", "ophthalmology"),
    ("H16.9", "角膜炎", "Keratitis", "ophthalmology"),
    ("H20.9", "虹膜睫状体炎", "Iridocyclitis (anterior uveitis)", "ophthalmology"),
    ("H01.0", "睑缘炎", "Blepharitis", "ophthalmology"),
    ("H00.1", "睑板腺囊肿", "Chalazion", "ophthalmology"),
    ("H43.3", "玻璃体混浊", "Vitreous opacities (floaters)", "ophthalmology"),

    # ---- ent 耳鼻咽喉科 ----
    ("J30.4", "变应性鼻炎", "Allergic rhinitis", "ent"),
    ("J31.0", "慢性鼻炎", "Chronic rhinitis", "ent"),
    ("J32.9", "慢性鼻窦炎", "Chronic sinusitis", "ent"),
    ("J33.9", "鼻息肉", "Nasal polyp", "ent"),
    ("J34.2", "鼻中隔偏曲", "Deviated nasal septum", "ent"),
    ("J31.2", "慢性咽炎", "Chronic pharyngitis", "ent"),
    ("J35.0", "慢性扁桃体炎", "Chronic tonsillitis", "ent"),
    ("J35.1", "扁桃体肥大", "Hypertrophy of tonsils", "ent"),
    ("J35.2", "腺样体肥大", "Hypertrophy of adenoids", "ent"),
    ("J37.0", "慢性喉炎", "Chronic laryngitis", "ent"),
    ("J38.1", "声带息肉", "Vocal cord polyp", "ent"),
    ("H93.1", "耳鸣", "Tinnitus", "ent"),
    ("H91.1", "老年性聋", "Presbycusis", "ent"),
    ("H91.2", "突发性聋", "Sudden idiopathic hearing loss", "ent"),
    ("H81.0", "梅尼埃病", "Meniere disease", "ent"),
    ("H81.1", "良性阵发性位置性眩晕", "Benign paroxysmal positional vertigo", "ent"),
    ("H65.9", "分泌性中耳炎", "Otitis media with effusion", "ent"),
    ("H66.3", "慢性化脓性中耳炎", "Chronic suppurative otitis media", "ent"),

    # ---- stomatology 口腔科 ----
    ("K02.9", "龋病", "Dental caries", "stomatology"),
    ("K04.0", "牙髓炎", "Pulpitis", "stomatology"),
    ("K05.1", "慢性牙龈炎", "Chronic gingivitis", "stomatology"),
    ("K05.3", "慢性牙周炎", "Chronic periodontitis", "stomatology"),
    ("K01.1", "阻生牙", "Impacted tooth", "stomatology"),
    ("K08.1", "牙列缺损", "Partial loss of teeth", "stomatology"),
    ("K07.4", "错颌畸形", "Malocclusion", "stomatology"),
    ("K07.6", "颞下颌关节紊乱病", "Temporomandibular joint disorder", "stomatology"),
    ("K12.0", "复发性阿弗他溃疡", "Recurrent aphthous ulcer", "stomatology"),
    ("K13.2", "口腔白斑", "Oral leukoplakia", "stomatology"),
    ("L43.8", "口腔扁平苔藓", "Oral lichen planus", "stomatology"),
    ("B37.0", "口腔念珠菌病", "Oral candidiasis", "stomatology"),
    ("K11.7", "口干症", "Xerostomia", "stomatology"),
    ("K14.6", "舌痛症", "Glossodynia (burning mouth)", "stomatology"),

    # ---- oncology 肿瘤科 ----
    ("C50.9", "乳腺癌", "Breast cancer", "oncology"),
    ("C34.9", "肺癌", "Lung cancer", "oncology"),
    ("C18.9", "结肠癌", "Colon cancer", "oncology"),
    ("C20", "直肠癌", "Rectal cancer", "oncology"),
    ("C16.9", "胃癌", "Gastric cancer", "oncology"),
    ("C15.9", "食管癌", "Oesophageal cancer", "oncology"),
    ("C22.0", "肝细胞癌", "Hepatocellular carcinoma", "oncology"),
    ("C25.9", "胰腺癌", "Pancreatic cancer", "oncology"),
    ("C73", "甲状腺癌", "Thyroid cancer", "oncology"),
    ("C11.9", "鼻咽癌", "Nasopharyngeal carcinoma", "oncology"),
    ("C32.9", "喉癌", "Laryngeal cancer", "oncology"),
    ("C71.9", "脑恶性肿瘤", "Malignant neoplasm of brain", "oncology"),
    ("C53.9", "宫颈癌", "Cervical cancer", "oncology"),
    ("C54.1", "子宫内膜癌", "Endometrial cancer", "oncology"),
    ("C56", "卵巢癌", "Ovarian cancer", "oncology"),
    ("C61", "前列腺癌", "Prostate cancer", "oncology"),
    ("C64", "肾癌", "Kidney cancer (renal cell carcinoma)", "oncology"),
    ("C67.9", "膀胱癌", "Bladder cancer", "oncology"),
    ("C79.5", "骨转移瘤", "Secondary malignant neoplasm of bone", "oncology"),

    # ---- tcm 中医科 ----
    ("K30", "功能性消化不良", "Functional dyspepsia", "tcm"),
    ("K59.1", "功能性腹泻", "Functional diarrhoea", "tcm"),
    ("R14", "腹胀", "Abdominal distension (flatulence)", "tcm"),
    ("R63.0", "食欲不振", "Anorexia (loss of appetite)", "tcm"),
    ("R53", "慢性疲劳", "Chronic fatigue (malaise and fatigue)", "tcm"),
    ("F48.0", "神经衰弱", "Neurasthenia", "tcm"),
    ("R61.9", "盗汗", "Night sweats (hyperhidrosis)", "tcm"),
    ("R00.2", "心悸", "Palpitations", "tcm"),
    ("M54.2", "颈痛", "Cervicalgia (neck pain)", "tcm"),
    ("M79.1", "肌痛", "Myalgia", "tcm"),
    ("L65.9", "脱发", "Nonscarring hair loss", "tcm"),

    # ---- general 全科医学科 ----
    ("J00", "普通感冒", "Common cold (acute nasopharyngitis)", "general"),
    ("J06.9", "急性上呼吸道感染", "Acute upper respiratory infection", "general"),
    ("R51", "头痛", "Headache", "general"),
    ("R42", "头晕", "Dizziness", "general"),
    ("R07.4", "胸痛", "Chest pain", "general"),
    ("R10.4", "腹痛", "Abdominal pain", "general"),
    ("R31", "血尿", "Haematuria", "general"),
    ("R63.4", "体重减轻", "Abnormal weight loss", "general"),
    ("D64.9", "贫血", "Anaemia", "general"),
]

HEADER = ["icd10", "name_zh", "name_en", "department", "initials"]


def initials(name_zh: str) -> str:
    """Pinyin first letters per Chinese char; Latin letters/digits kept."""
    parts = lazy_pinyin(name_zh, style=Style.FIRST_LETTER, errors="default")
    return re.sub(r"[^a-z0-9]", "", "".join(parts).lower())


def main() -> None:
    rows = []
    for icd10, name_zh, name_en, dept in CONDITIONS:
        assert dept in DEPARTMENTS, (icd10, dept)
        assert "," not in name_zh and "，" not in name_zh, name_zh
        assert "," not in name_en, name_en
        rows.append([icd10, name_zh, name_en, dept, initials(name_zh)])
    codes = [r[0] for r in rows]
    assert len(codes) == len(set(codes)), "duplicate icd10 codes"
    rows.sort(key=lambda r: (r[3], r[0]))  # department, then icd10

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conditions.csv")
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {out}")


if __name__ == "__main__":
    main()
