      *----------------------------------------------------------------*
      * 住民記録 移行用出力 (世帯・住民)  -- synthetic sample for mig   *
      * REC-KBN: '1' = 世帯 (SETAI-REC), '2' = 住民 (JUMIN-REC)         *
      *----------------------------------------------------------------*
       01  SETAI-REC.
           05  REC-KBN             PIC X.
               88  SETAI-KBN       VALUE '1'.
           05  SETAI-NO            PIC 9(15).
           05  NUSHI-KOJIN-NO      PIC 9(15).
           05  NUSHI-SHIMEI        PIC N(20).
           05  NUSHI-KANA          PIC X(40).
           05  ZIP                 PIC 9(7).
           05  ADDR                PIC X(100).
           05  KATAGAKI            PIC X(40).
           05  SETAI-YMD           PIC 9(8)   COMP-3.
           05  SETAI-JIYU          PIC X(3).
           05  NINZU               PIC S9(3)  COMP-3.
           05  UPD-YMD             PIC 9(8).
       01  JUMIN-REC.
           05  REC-KBN             PIC X.
           05  KOJIN-NO            PIC 9(15).
           05  SETAI-NO            PIC 9(15).
           05  SHIMEI              PIC N(20).
           05  KANA                PIC X(40).
           05  BIRTH.
               10  BIRTH-ERA       PIC 9.
               10  BIRTH-YMD       PIC 9(6).
           05  BIRTH-R             REDEFINES BIRTH.
               10  BIRTH-WAREKI    PIC 9(7).
           05  SEX                 PIC X.
           05  ZOKUGARA            PIC X(2).
           05  JUMIN-YMD           PIC 9(8).
           05  JUMIN-JIYU          PIC X(3).
           05  ZIP                 PIC 9(7).
           05  ADDR                PIC X(100).
           05  JOTAI               PIC X.
           05  TAINO               PIC S9(7)V99.
           05  RIREKI-CNT          PIC S9(4)  COMP.
           05  RIREKI              OCCURS 0 TO 3 TIMES
                                   DEPENDING ON RIREKI-CNT.
               10  RIREKI-YMD      PIC 9(8).
               10  RIREKI-JIYU     PIC X(3).
